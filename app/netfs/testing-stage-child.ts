/**
 * One staged download in a process of its own, for the resume test (stage.test.ts) that
 * SIGKILLs it half way:
 *
 *   node --import ../testing/ts-loader.mjs testing-stage-child.ts '<StageJob JSON>'
 *     (the password in NETFS_TEST_PASSWORD)
 *     CacheStore(job.cacheDir) ── beginStaging(job.path, aux) ── engine.stage(job.path)
 *     stdout: "STARTED", then one line of StageOutcome JSON if it is not killed first
 */
import { beginStaging } from '../cache/staging.js';
import { CacheStore } from '../cache/store.js';
import { createWebdavBackend } from '../remote/webdav/backend.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';

export interface StageJob {
  url: string;
  user: string;
  cacheDir: string;
  path: string;
  size: number;
  etag: string | null;
  lastModified: number | null;
  rsize: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as StageJob;
const backend = createWebdavBackend({ url: job.url, user: job.user, password: process.env['NETFS_TEST_PASSWORD'] ?? '' });
const store = await CacheStore.open(job.cacheDir, { volume: 'acct' });
const obj = await beginStaging(store, job.path, { etag: job.etag, lastModified: job.lastModified, size: job.size });
const engine = new NetfsEngine({ backend, pool: new BufferPool({ blockSize: 256 * 1024, capacity: 8 * 1024 * 1024 }), limits: { rsize: job.rsize } });
process.stdout.write('STARTED\n');
const out = await engine.stage(job.path, { size: job.size, expect: { etag: job.etag, size: job.size }, cache: obj });
process.stdout.write(`${JSON.stringify({ fetched: out.fetched, reused: out.reused })}\n`);
await store.close();
await backend.close();

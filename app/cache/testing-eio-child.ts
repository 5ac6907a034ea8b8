/**
 * The child of the withdrawal tests (withdraw.test.ts), run under strace, which fails the writes
 * (or the reads) of ONE backing file with EIO:
 *
 *   strace -f -P <backing file of job.bad> -e inject=pwrite64,…:error=EIO \
 *     node --import ../testing/ts-loader.mjs testing-eio-child.ts '<EioJob JSON>'
 *
 *   mode 'write': open the store -> write a granule of job.bad (EIO: the cache withdraws)
 *                 -> every later operation fails fast; the engine reads job.good uncached
 *   mode 'read':  the engine reads job.bad through the cache -> the cache read gets EIO, the
 *                 cache withdraws, the engine refetches from the "server" (a local backend)
 *   stdout: one line of EioResult JSON (exit code 0 whatever happened)
 */
import { createHash } from 'node:crypto';
import { isNetfsError } from '../api/errors.js';
import { BufferPool } from '../netfs/buffer-pool.js';
import { NetfsEngine } from '../netfs/engine.js';
import { createLocalBackend } from '../remote/local/backend.js';
import type { CacheObject } from './object.js';
import { CacheStore } from './store.js';
import { pattern } from './testing.js';

export interface EioJob {
  mode: 'write' | 'read';
  dir: string;
  /** Folder of the local backend (the "server"), holding `<key>` files with the true bytes. */
  remoteRoot: string;
  bad: string;
  good: string;
  size: number;
  etag: string;
}

export interface EioResult {
  /** The code of the failed operation (write mode: the write; read mode: the engine read, or 'OK'). */
  failed: string;
  failedMessage: string;
  state: string;
  withdrawn: { code: string; reason: string } | null;
  /** After the failure: occupancy of the good object, a read of it, a write to it, a lookup. */
  occupancyAfter: number;
  readAfter: string;
  writeAfter: string;
  lookupAfter: string;
  /** The engine's read through the cache after (write mode) or during (read mode) the failure. */
  engineSha: string;
  engineStats: { RD: number; rf: number; DL: number; wf: number };
  engineTrace: string[];
  withdrawnOps: number;
}

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'OK',
    (e: unknown) => (isNetfsError(e) ? e.code : `NOT_A_NETFS_ERROR ${String(e)}`),
  );

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as EioJob;
  const store = await CacheStore.open(job.dir, { volume: 'acct', keepAliveMs: 0 });
  const aux = { etag: job.etag, lastModified: 1, size: job.size };
  const bad = await store.openObject(job.bad, aux);
  const good = await store.openObject(job.good, aux);
  const backend = createLocalBackend({ url: `file://${job.remoteRoot}` });
  const engine = new NetfsEngine({ backend, pool: new BufferPool({ blockSize: 64 * 1024, capacity: 4 * 1024 * 1024 }), limits: { rsize: 256 * 1024 }, pacer: { baseMs: 2 } });
  const readThrough = async (key: string, cache: CacheObject): Promise<string> => {
    const hash = createHash('sha256');
    await engine.read(key, { offset: 0, length: job.size, size: job.size, cache, consumer: { deliver: (_pos, views) => void views.forEach((v) => hash.update(v)) } });
    return hash.digest('hex');
  };
  let failed = 'OK';
  let failedMessage = '';
  let engineSha = '';
  if (job.mode === 'write') {
    await bad.write(0, [pattern(65536, 99)]).then(
      () => {},
      (e: unknown) => {
        failed = isNetfsError(e) ? e.code : 'NOT_A_NETFS_ERROR';
        failedMessage = e instanceof Error ? e.message : String(e);
      },
    );
  } else {
    engineSha = await readThrough(job.bad, bad).catch((e: unknown) => {
      failed = isNetfsError(e) ? e.code : 'NOT_A_NETFS_ERROR';
      failedMessage = e instanceof Error ? e.message : String(e);
      return '';
    });
  }
  const occupancyAfter = (await good.queryOccupancy(0, job.size)).length;
  const readAfter = await codeOf(good.read(0, [new Uint8Array(65536)]));
  const writeAfter = await codeOf(good.write(0, [pattern(65536, 7)]));
  const lookupAfter = await codeOf(store.openObject('/another', aux));
  if (job.mode === 'write') engineSha = await readThrough(job.good, good);
  const inspection = await store.inspect();
  const s = engine.stats();
  const result: EioResult = {
    failed,
    failedMessage,
    state: inspection.state,
    withdrawn: inspection.withdrawn === null ? null : { code: inspection.withdrawn.code, reason: inspection.withdrawn.reason },
    occupancyAfter,
    readAfter,
    writeAfter,
    lookupAfter,
    engineSha,
    engineStats: { RD: s.caRdOps.RD, rf: s.caRdOps.rf, DL: s.downOps.DL, wf: s.caWrOps.wf },
    engineTrace: engine
      .trace()
      .filter((t) => t.kind === 'sreq' && ['ADD', 'RDOWN', 'RETRY', 'CA-NW'].includes(t.what))
      .map((t) => `${t.what} ${t.source ?? ''}`),
    withdrawnOps: inspection.counters.withdrawnOps,
  };
  await store.close();
  await backend.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();

// Staging a synced file's download in the real cache store (cache issue item 7, DESIGN §6)
// over a real Apache: bytes go to the cache object only and the object is placed by rename (one
// write of the data); a download SIGKILLed half way (a real child process) resumes from the
// cache's occupancy, fetching only the missing ranges (their Range in Apache's access log);
// a real ENOSPC (a full tmpfs) fails the download keeping what it wrote, and it resumes once
// there is room, then is placed by copy (the cache on another filesystem: EXDEV).
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { beginStaging, placeStaged } from '../cache/staging.js';
import { CacheStore } from '../cache/store.js';
import { canMount, mountTmpfs, unmount } from '../remote/local/test-kit.js';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { startApache, type AccessLogEntry, type ApacheServer } from '../testing/apache.js';
import { startFaultProxy, type FaultProxy } from '../testing/fault-proxy.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';
import { missingRanges } from './stage.js';
import type { StageJob } from './testing-stage-child.js';

const MiB = 1024 * 1024;
const SIZE = 24 * MiB + 12_345;
const here = fileURLToPath(new URL('.', import.meta.url));
const MOUNT_OK = canMount();
let apache: ApacheServer;
let proxy: FaultProxy;
let dav: WebdavBackend;
let work: string;
let sync: string;
const data = randomBytes(SIZE);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let aux: { etag: string | null; lastModified: number | null; size: number };
let mtimeMs: number;

function engine() {
  return new NetfsEngine({ backend: dav, pool: new BufferPool({ blockSize: 256 * 1024, capacity: 8 * MiB }), limits: { rsize: MiB } });
}

function getsOf(entries: AccessLogEntry[]): AccessLogEntry[] {
  return entries.filter((l) => l.method === 'GET' && l.target === '/dav/big.bin');
}

/** Waits until Apache has logged a PROPFIND sent after everything before it (a fence in the log). */
async function logFence(): Promise<AccessLogEntry[]> {
  const before = apache.accessLog().filter((l) => l.method === 'PROPFIND').length;
  await dav.stat('/big.bin');
  return apache.waitForAccessLog((es) => es.filter((l) => l.method === 'PROPFIND').length > before);
}

/** `bytes=a-b` -> [a, b + 1). */
function rangeOf(entry: AccessLogEntry): [number, number] {
  const m = /^bytes=(\d+)-(\d+)$/.exec(entry.range ?? '');
  if (m === null) throw new Error(`not a closed byte range: ${entry.range}`);
  return [Number(m[1]), Number(m[2]) + 1];
}

function merge(ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  dav = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
  await apache.writeFile('/big.bin', data);
  // A file modified this very second gets a weak ETag from Apache (never sent in If-Match).
  const past = new Date(Date.now() - 3_600_000);
  await utimes(apache.pathOf('big.bin'), past, past);
  const entry = await dav.stat('/big.bin');
  expect(entry.etagStrength).toBe('strong');
  aux = { etag: entry.etag, lastModified: entry.mtimeMs, size: SIZE };
  mtimeMs = entry.mtimeMs!;
  work = await mkdtemp(join(tmpdir(), 'netfs-stage-'));
});
afterEach(async () => {
  proxy.clearRules();
  await rm(sync, { recursive: true, force: true });
});
afterAll(async () => {
  await dav?.close();
  await proxy?.close();
  await apache?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('staging a synced download (item 7)', () => {
  it('the bytes go to the cache object only, once; placed by rename with the server mtime; every GET carries If-Match', async () => {
    sync = await mkdtemp(join(work, 'sync-'));
    const store = await CacheStore.open(join(work, 'cache-a'), { volume: 'acct' });
    try {
      const obj = await beginStaging(store, '/big.bin', aux);
      const mark = (await logFence()).length;
      const e = engine();
      const out = await e.stage('/big.bin', { size: SIZE, expect: { etag: aux.etag, size: SIZE }, cache: obj });
      expect(out).toMatchObject({ fetched: SIZE, reused: 0 });
      expect(out.requests).toHaveLength(1);
      expect(out.requests[0]!.origin).toBe('RA'); // origin download
      // Written once: the cache writes cover the file exactly, and nothing else was written.
      const writes = e.trace().filter((t) => t.source === 'WRIT' && t.what === 'CA-WR');
      expect(writes.reduce((n, t) => n + t.len!, 0)).toBe(SIZE);
      expect(e.stats().caWrOps).toMatchObject({ ws: writes.length, wf: 0 });
      expect(await readdir(sync)).toEqual([]);
      expect(e.ctx.pool.inUse).toBe(0);
      // Staging a whole object again fetches nothing.
      expect(await e.stage('/big.bin', { size: SIZE, cache: obj })).toEqual({ fetched: 0, reused: SIZE, requests: [] });
      const ino = (await stat(obj.path)).ino;
      const dest = join(sync, 'big.bin');
      expect(await placeStaged(obj, dest, { mtimeMs })).toEqual({ how: 'rename', dest });
      const st = await stat(dest);
      expect(st.ino).toBe(ino);
      expect(st.mtimeMs).toBe(mtimeMs);
      expect(sha(await readFile(dest))).toBe(sha(data));
      const gets = getsOf((await logFence()).slice(mark));
      expect(gets.length).toBe(Math.ceil(SIZE / MiB));
      expect(gets.map((g) => [g.status, g.ifMatch])).toEqual(gets.map(() => [206, aux.etag]));
    } finally {
      await store.close();
    }
  });

  it('a download SIGKILLed half way resumes from the cache\'s occupancy: only the missing ranges are fetched (Range in the access log)', { timeout: 30_000 }, async () => {
    sync = await mkdtemp(join(work, 'sync-'));
    const cacheDir = join(work, 'cache-b');
    // Slow enough to be caught half way: about 3 MB/s per connection.
    proxy.addRule({ match: { method: 'GET', path: '/dav/big.bin' }, action: { kind: 'throttle', bytesPerSecond: 3_000_000, direction: 'response' } });
    const job: StageJob = { url: proxy.url(apache.url), user: apache.user, cacheDir, path: '/big.bin', size: SIZE, etag: aux.etag, lastModified: aux.lastModified, rsize: MiB };
    const child = spawn(process.execPath, ['--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'testing-stage-child.ts'), JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NETFS_TEST_PASSWORD: apache.password },
    });
    let err = '';
    let out = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('STARTED')) resolve();
      });
      void exited.then(() => reject(new Error(`child ended before it started: ${err}`)));
    });
    // Kill it once 6 MiB are collected, preferably while a cache write is in flight (DIRTY).
    const db = new Database(join(cacheDir, 'index.sqlite'), { readonly: true });
    const state = () => {
      const row = db.prepare("SELECT id, dirty FROM objects WHERE key = '/big.bin'").get() as { id: number; dirty: number } | undefined;
      const ext = row === undefined ? [] : (db.prepare('SELECT start_at AS s, end_at AS e FROM extents WHERE object_id = ?').all(row.id) as { s: number; e: number }[]);
      return { dirty: row?.dirty ?? 0, committed: ext.reduce((n, x) => n + (x.e - x.s), 0) };
    };
    const deadline = Date.now() + 20_000;
    let sawDirtyAt: number | null = null;
    for (;;) {
      const s = state();
      if (s.committed >= 6 * MiB && (s.dirty === 1 || Date.now() > deadline - 15_000)) {
        if (s.dirty === 1) sawDirtyAt = s.committed;
        break;
      }
      if (Date.now() > deadline) throw new Error(`the child never got to 6 MiB: ${JSON.stringify(s)} ${err}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toMatch(/fetched/); // it never finished
    const atKill = state();
    db.close();
    proxy.clearRules();
    expect(atKill.committed).toBeGreaterThanOrEqual(6 * MiB);
    expect(atKill.committed).toBeLessThan(SIZE);

    const store = await CacheStore.open(cacheDir, { volume: 'acct' });
    try {
      const obj = await beginStaging(store, '/big.bin', aux);
      // A DIRTY staging object is resumed (its collected ranges kept); a clean one adopted.
      expect(store.outcomes).toEqual([{ key: '/big.bin', outcome: atKill.dirty === 1 ? 'resumed' : 'adopted' }]);
      const holes = await missingRanges(obj, SIZE);
      const missing = holes.reduce((n, [a, b]) => n + (b - a), 0);
      expect(SIZE - missing).toBe(atKill.committed);
      expect(holes[0]![0]).toBeGreaterThan(0);
      const mark = (await logFence()).length;
      const e = engine();
      const res = await e.stage('/big.bin', { size: SIZE, expect: { etag: aux.etag, size: SIZE }, cache: obj });
      expect(res.fetched).toBe(missing);
      expect(res.reused).toBe(atKill.committed);
      const gets = getsOf((await logFence()).slice(mark));
      expect(gets.every((g) => g.status === 206)).toBe(true);
      // The resumed GETs cover exactly the missing ranges, nothing the cache held.
      expect(merge(gets.map(rangeOf))).toEqual(merge(holes));
      expect(gets.map(rangeOf).reduce((n, [a, b]) => n + (b - a), 0)).toBe(missing);
      expect(gets.map((g) => g.range)).toContain(`bytes=${holes[0]![0]}-${Math.min(holes[0]![1], holes[0]![0] + MiB) - 1}`);
      const dest = join(sync, 'big.bin');
      expect((await placeStaged(obj, dest, { mtimeMs })).how).toBe('rename');
      expect(sha(await readFile(dest))).toBe(sha(data));
      console.log(`stage resume: killed at ${atKill.committed} bytes collected (DIRTY ${atKill.dirty === 1 ? `yes, seen at ${sawDirtyAt}` : 'no'}); resumed ${gets.length} GETs from ${holes[0]![0]}`);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!MOUNT_OK)('F15: out of space (a full tmpfs) fails the download, keeping what it wrote; with room again it resumes, and is placed by copy (EXDEV)', { timeout: 30_000 }, async () => {
    sync = await mkdtemp(join(work, 'sync-'));
    const cacheDir = join(work, 'cache-c');
    const objects = join(cacheDir, 'objects');
    await mkdir(objects, { recursive: true });
    mountTmpfs(objects, 'size=8m');
    let store: CacheStore | null = null;
    try {
      store = await CacheStore.open(cacheDir, { volume: 'acct' });
      const obj = await beginStaging(store, '/big.bin', aux);
      const e = engine();
      const err = await e.stage('/big.bin', { size: SIZE, expect: { etag: aux.etag, size: SIZE }, cache: obj }).catch((x: unknown) => x);
      expect(isNetfsError(err) && err.code).toBe('INSUFFICIENT_STORAGE');
      expect(obj.invalidations).toEqual([]);
      expect(e.ctx.pool.inUse).toBe(0);
      const kept = SIZE - (await missingRanges(obj, SIZE)).reduce((n, [a, b]) => n + (b - a), 0);
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThanOrEqual(8 * MiB);
      execRemount(objects, 'size=64m');
      const res = await engine().stage('/big.bin', { size: SIZE, expect: { etag: aux.etag, size: SIZE }, cache: obj });
      expect(res).toMatchObject({ reused: kept, fetched: SIZE - kept });
      const dest = join(sync, 'big.bin');
      expect((await placeStaged(obj, dest, { mtimeMs })).how).toBe('copy');
      expect(sha(await readFile(dest))).toBe(sha(data));
      expect((await stat(dest)).mtimeMs).toBe(mtimeMs);
      expect(await readdir(sync)).toEqual(['big.bin']);
    } finally {
      await store?.close();
      unmount(objects);
    }
  });
});

function execRemount(dir: string, options: string): void {
  mountTmpfs(dir, `remount,${options}`);
}

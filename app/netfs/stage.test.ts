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
import type { ProxiedRequest } from '../testing/fault-proxy-types.js';
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

// F2 at engine level (test-scenarios.md §6.2): a stage that fails for good keeps for the cache
// what is valid of what it downloaded - the landed part of the front GET cut down to whole
// granules, and the GETs after it that completed - so the next stage fetches only the rest.
describe('F2: a failed stage keeps what it downloaded, so the next one resumes', () => {
  const F2_SIZE = 30_000_000;
  const F2_PATH = '/thirty.bin';
  const F2_TARGET = `/dav${F2_PATH}`;
  const CUT = 3_000_000; // "3 MB": not a whole number of granules
  const f2data = randomBytes(F2_SIZE);
  let f2aux: { etag: string | null; lastModified: number | null; size: number };
  const f2backends: WebdavBackend[] = [];

  beforeAll(async () => {
    await apache.writeFile(F2_PATH, f2data);
    const past = new Date(Date.now() - 3_600_000);
    await utimes(apache.pathOf('thirty.bin'), past, past);
    const entry = await dav.stat(F2_PATH);
    expect(entry.etagStrength).toBe('strong');
    f2aux = { etag: entry.etag, lastModified: entry.mtimeMs, size: F2_SIZE };
  });
  afterAll(async () => {
    await Promise.all(f2backends.map((b) => b.close()));
  });

  /** An engine through the proxy, as a sync pass runs it: rsize 4 MiB, 4 GETs in flight, quick backoff. */
  function proxiedEngine(): NetfsEngine {
    const backend = createWebdavBackend({ url: proxy.url(apache.url), user: apache.user, password: apache.password });
    f2backends.push(backend);
    return new NetfsEngine({ backend, pool: new BufferPool({ blockSize: 256 * 1024, capacity: 32 * MiB }), limits: { rsize: 4 * MiB }, pacer: { baseMs: 20, maxBackoffMs: 200 } });
  }
  const getsFrom = (from: number): ProxiedRequest[] => proxy.requests.filter((q) => q.index >= from && q.method === 'GET' && q.path === F2_TARGET);
  const rangeOfGet = (q: ProxiedRequest): [number, number] => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(q.headers['range'] ?? '');
    if (m === null) throw new Error(`not a closed byte range: ${q.headers['range']}`);
    return [Number(m[1]), Number(m[2]) + 1];
  };
  /** GETs the proxy answered whole with 206. */
  const whole = (gets: ProxiedRequest[]): ProxiedRequest[] => gets.filter((q) => q.status === 206 && q.rule === null && q.bytesOut === rangeOfGet(q)[1] - rangeOfGet(q)[0]);
  const complement = (ranges: Array<[number, number]>, size: number): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    let at = 0;
    for (const [a, b] of merge(ranges)) {
      if (a > at) out.push([at, a]);
      at = Math.max(at, b);
    }
    if (at < size) out.push([at, size]);
    return out;
  };

  /** The next stage: only the holes are fetched (Range in the proxy's log), once; the result is byte-exact. */
  async function resumeAndCheck(obj: Awaited<ReturnType<typeof beginStaging>>, holes: Array<[number, number]>): Promise<ProxiedRequest[]> {
    const missing = holes.reduce((n, [a, b]) => n + (b - a), 0);
    const from = proxy.requests.length;
    const res = await proxiedEngine().stage(F2_PATH, { size: F2_SIZE, expect: { etag: f2aux.etag, size: F2_SIZE }, cache: obj });
    expect(res).toMatchObject({ fetched: missing, reused: F2_SIZE - missing });
    const gets = getsFrom(from);
    expect(gets.every((q) => q.status === 206 && q.rule === null)).toBe(true);
    expect(merge(gets.map(rangeOfGet))).toEqual(merge(holes));
    expect(gets.map(rangeOfGet).reduce((n, [a, b]) => n + (b - a), 0)).toBe(missing);
    expect(gets.reduce((n, q) => n + q.bytesOut, 0)).toBe(missing);
    const dest = join(sync, 'thirty.bin');
    expect((await placeStaged(obj, dest, { mtimeMs: f2aux.lastModified! })).how).toBe('rename');
    expect(sha(await readFile(dest))).toBe(sha(f2data));
    return gets;
  }

  it('F2 / 62: GETs cut after 3 MB with retries exhausted: the stage fails TRANSIENT; the object holds [0, 3 MB down to whole granules) and the GETs that completed; the next stage fetches only the rest, byte-exact', { timeout: 30_000 }, async () => {
    sync = await mkdtemp(join(work, 'sync-'));
    const store = await CacheStore.open(join(work, 'cache-f2a'), { volume: 'acct' });
    try {
      const obj = await beginStaging(store, F2_PATH, f2aux);
      const from = proxy.requests.length;
      // The first GET is cut after 3 MB (full Content-Length, then FIN); every try at the rest is reset.
      proxy.addRule({ match: { method: 'GET', path: F2_TARGET, when: (q) => (q.headers['range'] ?? '').startsWith('bytes=0-') }, action: { kind: 'truncate', afterBodyBytes: CUT } });
      proxy.addRule({ match: { method: 'GET', path: F2_TARGET, when: (q) => (q.headers['range'] ?? '').startsWith(`bytes=${CUT}-`) }, action: { kind: 'reset', at: 'before-headers' } });
      const e = proxiedEngine();
      const err = await e.stage(F2_PATH, { size: F2_SIZE, expect: { etag: f2aux.etag, size: F2_SIZE }, cache: obj }).catch((x: unknown) => x);
      expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
      expect(e.ctx.pool.inUse).toBe(0);
      expect(obj.invalidations).toEqual([]);
      proxy.clearRules();
      const first = getsFrom(from);
      expect(first.filter((q) => q.rule !== null).map((q) => [q.headers['range'], q.bytesOut])).toEqual([
        ['bytes=0-4194303', CUT],
        ...[1, 2, 3].map(() => [`bytes=${CUT}-4194303`, 0]), // 3 re-issues, then it fails (62)
      ]);
      const later = whole(first);
      expect(later.length).toBeGreaterThanOrEqual(3); // the 2nd to 4th GETs were in flight at the cut
      const kept = Math.floor(CUT / (64 * 1024)) * 64 * 1024; // 2949120
      expect(kept).toBe(2_949_120);
      const holes = await missingRanges(obj, F2_SIZE);
      expect(holes).toEqual(complement([[0, kept], ...later.map(rangeOfGet)], F2_SIZE));
      expect(holes[0]).toEqual([kept, 4 * MiB]);
      // Each kept GET whole: 4 MiB, or less for the last one (the file ends at 30,000,000).
      expect(e.trace().filter((t) => t.what === 'KEEP').map((t) => [t.start, t.transferred])).toEqual([
        [0, kept],
        ...later.map((q) => {
          const [a, b] = rangeOfGet(q);
          return [a, b - a];
        }),
      ]);
      const next = await resumeAndCheck(obj, holes);
      // The next stage's first GET starts where the kept bytes end, not at 0.
      expect(next[0]!.headers['range']).toBe(`bytes=${kept}-4194303`);
    } finally {
      await store.close();
    }
  });

  it('F2: a retry answered 412 (the file changed): the stage fails CHANGED_ON_SERVER and nothing is kept, not even the GETs that completed', { timeout: 30_000 }, async () => {
    sync = await mkdtemp(join(work, 'sync-'));
    const store = await CacheStore.open(join(work, 'cache-f2b'), { volume: 'acct' });
    try {
      const obj = await beginStaging(store, F2_PATH, f2aux);
      const from = proxy.requests.length;
      proxy.addRule({ match: { method: 'GET', path: F2_TARGET, when: (q) => (q.headers['range'] ?? '').startsWith('bytes=0-') }, action: { kind: 'truncate', afterBodyBytes: CUT } });
      proxy.addRule({ match: { method: 'GET', path: F2_TARGET, when: (q) => (q.headers['range'] ?? '').startsWith(`bytes=${CUT}-`) }, action: { kind: 'status', status: 412 } });
      const e = proxiedEngine();
      const err = await e.stage(F2_PATH, { size: F2_SIZE, expect: { etag: f2aux.etag, size: F2_SIZE }, cache: obj }).catch((x: unknown) => x);
      expect(isNetfsError(err) && err.code).toBe('CHANGED_ON_SERVER');
      proxy.clearRules();
      expect(whole(getsFrom(from)).length).toBeGreaterThanOrEqual(3);
      expect(await missingRanges(obj, F2_SIZE)).toEqual([[0, F2_SIZE]]);
      expect(e.trace().filter((t) => t.what === 'KEEP')).toEqual([]);
      expect(e.stats().caWrOps.WR).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('F2: a stage cancelled (AbortSignal) half way keeps the front GET\'s landed bytes in whole granules; the next stage starts there', { timeout: 30_000 }, async () => {
    sync = await mkdtemp(join(work, 'sync-'));
    const store = await CacheStore.open(join(work, 'cache-f2c'), { volume: 'acct' });
    try {
      const obj = await beginStaging(store, F2_PATH, f2aux);
      const from = proxy.requests.length;
      proxy.addRule({ match: { method: 'GET', path: F2_TARGET }, action: { kind: 'throttle', bytesPerSecond: 3_000_000, direction: 'response' } });
      const ac = new AbortController();
      const e = proxiedEngine();
      const staging = e.stage(F2_PATH, { size: F2_SIZE, expect: { etag: f2aux.etag, size: F2_SIZE }, cache: obj, signal: ac.signal }).catch((x: unknown) => x);
      // Cancelled once the front GET has sent 1.5 MB (the proxy's log wakes no waiter per byte: poll).
      const deadline = Date.now() + 10_000;
      while (!getsFrom(from).some((q) => (q.headers['range'] ?? '').startsWith('bytes=0-') && q.bytesOut >= 1_500_000)) {
        if (Date.now() > deadline) throw new Error('the front GET never got to 1.5 MB');
        await new Promise((r) => setTimeout(r, 5));
      }
      ac.abort();
      const err = await staging;
      expect(isNetfsError(err) && err.code).toBe('CANCELLED');
      expect(e.ctx.pool.inUse).toBe(0);
      proxy.clearRules();
      const front = getsFrom(from).find((q) => (q.headers['range'] ?? '').startsWith('bytes=0-'))!;
      expect(front.bytesOut).toBeLessThan(4 * MiB); // cut by the cancel, not whole
      const holes = await missingRanges(obj, F2_SIZE);
      expect(holes).toHaveLength(1);
      const kept = holes[0]![0];
      expect(holes[0]![1]).toBe(F2_SIZE); // nothing after the front: no other GET completed
      expect(kept % (64 * 1024)).toBe(0);
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThanOrEqual(front.bytesOut);
      const next = await resumeAndCheck(obj, holes);
      expect(next[0]!.headers['range']).toBe(`bytes=${kept}-${Math.min(F2_SIZE, kept + 4 * MiB) - 1}`);
    } finally {
      await store.close();
    }
  });
});

function execRemount(dir: string, options: string): void {
  mountTmpfs(dir, `remount,${options}`);
}

// Unbuffered writes (origin UW) against the real local-folder backend's ranged writes:
// strict sequence (52), re-issue of the same subrequest for exactly its remaining bytes with
// and without a renegotiation hook (53, digest §4.5 scenario A), short writes (45), the retry
// cap (62), counters (63), cache invalidation (54), and failure/cancellation.
//
// A server that does ranged writes does not exist for WebDAV, and the local backend never
// fails transiently on its own; so the retry tests use a small wrapper backend defined HERE
// that delegates every call to the real local backend, and on one chosen writeRange call
// really writes the first half of the bytes through it and then reports a TRANSIENT failure
// (or a short write). The bytes on disk are real; only the failure is staged.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError, NetfsError } from '../api/errors.js';
import { CacheStore } from '../cache/store.js';
import type { RemoteBackend, WriteRangeOptions } from '../remote/backend.js';
import { createLocalBackend, type LocalBackend } from '../remote/local/backend.js';
import { createWebdavBackend } from '../remote/webdav/backend.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';
import type { TraceEvent } from './trace.js';
import type { RenegotiateInfo } from './write-retry.js';

const KiB = 1024;
const WSIZE = 64 * KiB;
let dir: string;
let remoteRoot: string;
let local: LocalBackend;

function engine(backend: RemoteBackend = local) {
  return new NetfsEngine({ backend, pool: new BufferPool({ blockSize: 64 * KiB, capacity: 1024 * KiB }), limits: { wsize: WSIZE }, pacer: { baseMs: 2 } });
}

/** A remote file of `size` random bytes; returns them. */
async function remoteFile(name: string, size: number): Promise<Buffer> {
  const bytes = randomBytes(size);
  await writeFile(join(remoteRoot, name), bytes);
  return bytes;
}

/** `base` with `data` written at `offset`. */
function spliced(base: Buffer, offset: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.max(base.length, offset + data.length));
  base.copy(out);
  out.set(data, offset);
  return out;
}

/** The first `n` bytes of `source` (stops pulling after them). */
async function* firstBytes(source: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  let left = n;
  for await (const chunk of source) {
    if (left <= 0) return;
    const part = chunk.length <= left ? chunk : chunk.subarray(0, left);
    left -= part.length;
    yield part;
    if (left <= 0) return;
  }
}

interface Staged {
  backend: RemoteBackend;
  calls: Array<{ offset: number; length: number }>;
}

/**
 * The real local backend, except that writeRange call number `on` (1-based; or every call
 * from `on` when `always`) writes only the first half for real and then fails TRANSIENT
 * (`mode: 'throw'`) or returns short (`mode: 'short'`), or writes nothing (`half: false`).
 */
function staged(inner: LocalBackend, plan: { on: number; mode: 'throw' | 'short'; always?: boolean; half?: boolean }): Staged {
  const calls: Staged['calls'] = [];
  const backend: RemoteBackend = {
    origin: inner.origin,
    kind: inner.kind,
    stat: (p, o) => inner.stat(p, o),
    list: (p, o) => inner.list(p, o),
    read: (p, o) => inner.read(p, o),
    write: (p, o) => inner.write(p, o),
    mkdir: (p, o) => inner.mkdir(p, o),
    move: (a, b, o) => inner.move(a, b, o),
    delete: (p, o) => inner.delete(p, o),
    capabilities: (o) => inner.capabilities(o),
    close: () => inner.close(),
    async writeRange(path: string, options: WriteRangeOptions) {
      calls.push({ offset: options.offset, length: options.length });
      const n = calls.length;
      if (n < plan.on || (n > plan.on && plan.always !== true)) return inner.writeRange(path, options);
      const half = plan.half === false ? 0 : Math.floor(options.length / 2);
      const r = half > 0 ? await inner.writeRange(path, { ...options, length: half, source: firstBytes(options.source, half) }) : { written: 0 };
      if (plan.mode === 'short') return { written: r.written };
      throw new NetfsError('TRANSIENT', `writeRange ${path}: connection reset (staged by the test)`, { transferred: r.written });
    },
  };
  return { backend, calls };
}

function sreqEvents(e: NetfsEngine, rreq: number): TraceEvent[] {
  return e.trace().filter((t) => t.kind === 'sreq' && t.rreq === rreq);
}

function expectClean(e: NetfsEngine): void {
  expect(e.stats().objs).toMatchObject({ rr: 0, sr: 0 });
  expect(e.requests()).toEqual([]);
  expect(e.ctx.wbLocks.size).toBe(0);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netfs-direct-write-'));
  remoteRoot = join(dir, 'remote');
  await mkdir(remoteRoot);
  local = createLocalBackend({ url: `file://${remoteRoot}` });
});
afterAll(async () => {
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('unbuffered writes (§7.6)', () => {
  it('52: subrequests are strictly sequential: k+1 is created only after k completed and was collected', async () => {
    const base = await remoteFile('seq.bin', 400_000);
    const data = randomBytes(300_000);
    const e = engine();
    const out = await e.unbufferedWrite('/seq.bin', { offset: 1000, data });
    expect(out.written).toBe(data.length);
    expect(out.request).toMatchObject({ origin: 'UW', start: 1000, len: data.length, transferred: data.length, error: null });
    expect((await readFile(join(remoteRoot, 'seq.bin'))).equals(spliced(base, 1000, data))).toBe(true);
    const events = sreqEvents(e, out.request.debugId);
    const n = Math.ceil(data.length / WSIZE);
    // The whole life of subrequest k comes before anything of k+1.
    expect(events.map((t) => `${t.sreq}:${t.what}`)).toEqual(Array.from({ length: n }, (_, k) => [`${k}:ADD`, `${k}:SUBMT`, `${k}:TERM`, `${k}:CONSM`]).flat());
    let at = 1000;
    for (const a of events.filter((t) => t.what === 'ADD')) {
      expect(a.start).toBe(at);
      expect(a.len!).toBeLessThanOrEqual(WSIZE);
      at += a.len!;
    }
    expect(at).toBe(1000 + data.length);
    const s = e.stats();
    expect(s.writes.DW).toBe(1);
    expect(s.upldOps).toEqual({ UL: n, us: n, uf: 0 });
    expect(s.retries).toMatchObject({ wq: 0, ws: 0 });
    expectClean(e);
  });

  it('55, 10: appending at the end extends the file; a zero-length write sends nothing', async () => {
    const base = await remoteFile('append.bin', 5000);
    const data = randomBytes(70_000);
    const e = engine();
    await e.unbufferedWrite('/append.bin', { offset: 5000, data });
    expect((await readFile(join(remoteRoot, 'append.bin'))).equals(Buffer.concat([base, data]))).toBe(true);
    const empty = await e.unbufferedWrite('/append.bin', { offset: 10, data: new Uint8Array(0) });
    expect(empty.written).toBe(0);
    expect(empty.request.subrequests).toEqual([]);
    expect(e.stats().upldOps.UL).toBe(2);
    expectClean(e);
  });

  it('53 / scenario A: with NO renegotiate hook, a subrequest that needs retry is re-issued as the same one for exactly its remaining bytes', async () => {
    const base = await remoteFile('retry-nohook.bin', 300_000);
    const data = randomBytes(200_000);
    const { backend, calls } = staged(local, { on: 2, mode: 'throw' });
    const e = engine(backend);
    const out = await e.unbufferedWrite('/retry-nohook.bin', { offset: 500, data });
    expect(out.written).toBe(data.length);
    expect((await readFile(join(remoteRoot, 'retry-nohook.bin'))).equals(spliced(base, 500, data))).toBe(true);
    const half = WSIZE / 2;
    expect(calls.slice(0, 4)).toEqual([
      { offset: 500, length: WSIZE },
      { offset: 500 + WSIZE, length: WSIZE }, // half of it lands, then TRANSIENT
      { offset: 500 + WSIZE + half, length: WSIZE - half }, // exactly the rest, same subrequest
      { offset: 500 + 2 * WSIZE, length: WSIZE },
    ]);
    const events = sreqEvents(e, out.request.debugId);
    expect(events.filter((t) => t.what === 'ADD')).toHaveLength(Math.ceil(data.length / WSIZE));
    const retry = events.filter((t) => t.what === 'RETRY');
    expect(retry).toEqual([expect.objectContaining({ sreq: 1, start: 500 + WSIZE + half, len: WSIZE - half })]);
    expect(events.some((t) => t.what === 'RENEG')).toBe(false);
    expect(e.stats().retries).toMatchObject({ wq: 1, ws: 1 });
    expect(out.request.subrequests).toEqual([]);
    expectClean(e);
  });

  it('53: with a renegotiate hook, it runs once before the re-issue, told the remaining range and why', async () => {
    const base = await remoteFile('retry-hook.bin', 200_000);
    const data = randomBytes(150_000);
    const { backend, calls } = staged(local, { on: 1, mode: 'throw' });
    const e = engine(backend);
    const seen: RenegotiateInfo[] = [];
    const out = await e.unbufferedWrite('/retry-hook.bin', {
      offset: 0,
      data,
      renegotiate: (info) => {
        seen.push(info);
        // The re-issue has not happened yet when the hook runs.
        expect(calls).toHaveLength(1);
      },
    });
    expect((await readFile(join(remoteRoot, 'retry-hook.bin'))).equals(spliced(base, 0, data))).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ request: out.request.debugId, subrequest: 0, attempt: 1, offset: WSIZE / 2, length: WSIZE / 2 });
    expect(isNetfsError(seen[0]!.error) && seen[0]!.error.code).toBe('TRANSIENT');
    expect(calls[1]).toEqual({ offset: WSIZE / 2, length: WSIZE / 2 });
    const whats = sreqEvents(e, out.request.debugId).filter((t) => t.sreq === 0).map((t) => t.what);
    expect(whats).toEqual(['ADD', 'SUBMT', 'PARTW', 'RENEG', 'RETRY', 'SUBMT', 'TERM', 'CONSM']);
    expect(e.stats().retries).toMatchObject({ wq: 1, ws: 1 });
    expectClean(e);
  });

  it('45: a short write that made progress (no error) is re-issued for the remainder', async () => {
    const base = await remoteFile('short.bin', 100_000);
    const data = randomBytes(100_000);
    const { backend, calls } = staged(local, { on: 1, mode: 'short' });
    const e = engine(backend);
    const out = await e.unbufferedWrite('/short.bin', { offset: 0, data });
    expect(out.written).toBe(100_000);
    expect((await readFile(join(remoteRoot, 'short.bin'))).equals(spliced(base, 0, data))).toBe(true);
    expect(calls[1]).toEqual({ offset: WSIZE / 2, length: WSIZE / 2 });
    expect(e.stats().retries).toMatchObject({ wq: 1, ws: 1 });
    expectClean(e);
  });

  it('62: a subrequest still failing after 3 retries fails with its last error; what came before it stays written', async () => {
    const base = await remoteFile('cap.bin', 300_000);
    const data = randomBytes(200_000);
    const { backend, calls } = staged(local, { on: 2, mode: 'throw', always: true, half: false });
    const e = engine(backend);
    const err = await e.unbufferedWrite('/cap.bin', { offset: 0, data }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
    expect(calls).toHaveLength(1 + 4);
    expect(calls.slice(1).every((c) => c.offset === WSIZE && c.length === WSIZE)).toBe(true);
    const disk = await readFile(join(remoteRoot, 'cap.bin'));
    expect(disk.subarray(0, WSIZE).equals(data.subarray(0, WSIZE))).toBe(true);
    expect(disk.subarray(WSIZE).equals(base.subarray(WSIZE))).toBe(true);
    const s = e.stats();
    expect(s.retries).toMatchObject({ wq: 3, ws: 3 });
    expect(s.upldOps.uf).toBe(1);
    expect(e.trace().some((t) => t.what === '!RETR')).toBe(true);
    expectClean(e);
  });

  it('53, 61: a renegotiate hook that throws abandons the write with its error', async () => {
    await remoteFile('abandon.bin', 100_000);
    const { backend } = staged(local, { on: 1, mode: 'throw' });
    const e = engine(backend);
    const err = await e
      .unbufferedWrite('/abandon.bin', { offset: 0, data: randomBytes(10_000), renegotiate: () => { throw new NetfsError('AUTH', 'session gone'); } })
      .catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('AUTH');
    expectClean(e);
  });

  it('46: a non-retryable error fails at once: a missing file is NOT_FOUND, a write past EOF INVALID_ARGUMENT', async () => {
    const e = engine();
    const missing = await e.unbufferedWrite('/missing.bin', { offset: 0, data: randomBytes(10) }).catch((x: unknown) => x);
    expect(isNetfsError(missing) && missing.code).toBe('NOT_FOUND');
    await remoteFile('small.bin', 10);
    const hole = await e.unbufferedWrite('/small.bin', { offset: 11, data: randomBytes(10) }).catch((x: unknown) => x);
    expect(isNetfsError(hole) && hole.code).toBe('INVALID_ARGUMENT');
    expect(e.stats().retries.wq).toBe(0);
    expect(e.stats().upldOps.uf).toBe(2);
    expectClean(e);
  });

  it('C7: a cancelled unbuffered write ends CANCELLED', async () => {
    await remoteFile('cancel.bin', 10);
    const e = engine();
    const ac = new AbortController();
    ac.abort();
    const err = await e.unbufferedWrite('/cancel.bin', { offset: 0, data: randomBytes(10), signal: ac.signal }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CANCELLED');
    expectClean(e);
  });

  it('54: the cache object is invalidated before an unbuffered write', async () => {
    await remoteFile('cached.bin', 8192);
    const store = await CacheStore.open(join(dir, 'cache'), { volume: 'acct' });
    const cache = await store.openObject('/cached.bin', { etag: null, lastModified: null, size: 8192 });
    await cache.write(0, [new Uint8Array(8192)]);
    await cache.collectWrite(0, 8192);
    expect(await cache.queryOccupancy(0, 8192)).toEqual([{ start: 0, end: 8192, type: 'DATA' }]);
    const e = engine();
    await e.unbufferedWrite('/cached.bin', { offset: 100, data: randomBytes(100), cache });
    expect(cache.invalidations).toEqual(['unbuffered-write']);
    expect(cache.committedRanges).toEqual([]);
    expect(await cache.queryOccupancy(0, 8192)).toEqual([]);
    expect(e.stats().fscache.invals.n).toBe(1);
    await store.close();
  });

  it('52: a backend without ranged writes (WebDAV) is UNSUPPORTED', async () => {
    const dav = createWebdavBackend({ url: 'http://127.0.0.1:9/dav/' });
    const e = engine(dav);
    const err = await e.unbufferedWrite('/a.bin', { offset: 0, data: randomBytes(10) }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('UNSUPPORTED');
    expect(e.stats().writes.DW).toBe(0);
    await dav.close();
  });
});

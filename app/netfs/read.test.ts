// The read path against a real Apache mod_dav: tiling, ordered collection, memory, counters,
// trace ids, cancellation, change detection. Behaviour numbers are netfs-digest §7's.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';
import type { ReadConsumer } from './read-request.js';

const MiB = 1024 * 1024;
let apache: ApacheServer;
let dav: WebdavBackend;
let dir: string;
const files: Record<string, Buffer> = {};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function engine(opts: { rsize?: number; blockSize?: number; capacity?: number; perRequest?: number } = {}) {
  const pool = new BufferPool({ blockSize: opts.blockSize ?? 256 * 1024, capacity: opts.capacity ?? 16 * MiB });
  return new NetfsEngine({ backend: dav, pool, limits: { rsize: opts.rsize ?? 1 * MiB, maxInFlightPerRequest: opts.perRequest ?? 4 } });
}

/** A consumer that keeps what it gets, checking it arrives in file order without gaps. */
function collector(start: number) {
  const parts: Buffer[] = [];
  const calls: Array<[number, number]> = [];
  let next = start;
  const consumer: ReadConsumer = {
    deliver(fpos, views) {
      expect(fpos).toBe(next);
      let n = 0;
      for (const v of views) {
        parts.push(Buffer.from(v));
        n += v.length;
      }
      calls.push([fpos, n]);
      next += n;
    },
  };
  return { consumer, bytes: () => Buffer.concat(parts), calls };
}

function subrequestsOf(e: NetfsEngine, rreq: number) {
  return e.trace().filter((t) => t.kind === 'sreq' && t.rreq === rreq && t.what === 'ADD');
}

async function gets(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 50));
  return apache.accessLog().filter((l) => l.method === 'GET').map((l) => l.range ?? 'whole');
}

beforeAll(async () => {
  apache = await startApache();
  dav = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
  dir = await mkdtemp(join(tmpdir(), 'netfs-read-'));
  for (const [name, size] of [['empty', 0], ['one', 1], ['small', 300_001], ['three', 3 * MiB + 1], ['big', 40 * MiB + 12345]] as const) {
    files[name] = randomBytes(size);
    await apache.writeFile(`/${name}.bin`, files[name]);
  }
});
afterAll(async () => {
  await dav?.close();
  await apache?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('downloads through the engine are byte-exact and durable', () => {
  it.each(['empty', 'one', 'small', 'three', 'big'])('%s', async (name) => {
    const e = engine();
    const target = join(dir, `${name}.out`);
    const r = await e.download(`/${name}.bin`, { size: files[name]!.length, target });
    expect(r.bytes).toBe(files[name]!.length);
    expect(sha(await readFile(target))).toBe(sha(files[name]!));
    // Every pool block is back; no request or subrequest is left (behaviour 86).
    expect(e.ctx.pool.inUse).toBe(0);
    expect(e.stats().objs).toMatchObject({ rr: 0, sr: 0 });
    expect(e.requests()).toEqual([]);
  });

  it('memory does not grow with file size: the pool bounds it', async () => {
    const e = engine({ capacity: 4 * MiB, blockSize: 256 * 1024, rsize: 1 * MiB });
    await e.download('/big.bin', { size: files['big']!.length, target: join(dir, 'big-bounded.out') });
    expect(e.ctx.pool.highWater * 256 * 1024).toBeLessThanOrEqual(4 * MiB);
    expect(sha(await readFile(join(dir, 'big-bounded.out')))).toBe(sha(files['big']!));
  });
});

describe('read slicing (§7.1)', () => {
  it('1: N <= rsize below EOF is exactly one server subrequest of N bytes', async () => {
    const e = engine({ rsize: 1 * MiB });
    const c = collector(1000);
    const out = await e.read('/three.bin', { offset: 1000, length: 500_000, size: files['three']!.length, consumer: c.consumer });
    const adds = subrequestsOf(e, out.request.debugId);
    expect(adds).toHaveLength(1);
    expect(adds[0]).toMatchObject({ source: 'DOWN', start: 1000, len: 500_000 });
    expect(e.stats().downOps.DL).toBe(1);
    expect(c.bytes()).toEqual(files['three']!.subarray(1000, 501_000));
  });

  it('2: N bytes are ceil(N/R) contiguous ascending server subrequests, each <= R', async () => {
    const e = engine({ rsize: 1 * MiB });
    const size = files['three']!.length;
    const c = collector(0);
    const out = await e.read('/three.bin', { offset: 0, length: size, size, consumer: c.consumer });
    const adds = subrequestsOf(e, out.request.debugId);
    expect(adds).toHaveLength(Math.ceil(size / MiB));
    let at = 0;
    for (const a of adds) {
      expect(a.source).toBe('DOWN');
      expect(a.start).toBe(at);
      expect(a.len!).toBeLessThanOrEqual(MiB);
      at += a.len!;
    }
    expect(at).toBe(size);
    expect(sha(c.bytes())).toBe(sha(files['three']!));
  });

  it('8, 9: past min(size, zero_point) is zero-filled with no server I/O; downloads stop there', async () => {
    const e = engine({ rsize: 1 * MiB });
    const size = files['three']!.length;
    const before = (await gets()).length;
    // Only zeros: the server is not contacted at all.
    const z = collector(0);
    const zr = await e.read('/three.bin', { offset: 0, length: 1000, size, consumer: z.consumer, ...{} });
    expect(zr.transferred).toBe(1000);
    const e2 = engine({ rsize: 1 * MiB });
    const { netfsRead } = await import('./read.js');
    const onlyZeros = collector(0);
    await netfsRead(e2.ctx, { origin: 'read', path: '/three.bin', start: 0, len: 100_000, size, zeroPoint: 0, consumer: onlyZeros.consumer });
    expect(onlyZeros.bytes().every((b) => b === 0)).toBe(true);
    expect(e2.stats().downOps.DL).toBe(0);
    expect(e2.stats().zeroOps.ZR).toBe(1);
    // A read straddling zero_point: the server part ends exactly there.
    const half = collector(0);
    await netfsRead(e2.ctx, { origin: 'read', path: '/three.bin', start: 0, len: 200_000, size, zeroPoint: 150_000, consumer: half.consumer });
    expect(half.bytes().subarray(0, 150_000)).toEqual(files['three']!.subarray(0, 150_000));
    expect(half.bytes().subarray(150_000).every((b) => b === 0)).toBe(true);
    const after = await gets();
    expect(after.slice(before)).toContain('bytes=0-149999');
  });

  it('10: a zero-length read issues nothing', async () => {
    const e = engine();
    const c = collector(5);
    const out = await e.read('/three.bin', { offset: 5, length: 0, size: files['three']!.length, consumer: c.consumer });
    expect(out.transferred).toBe(0);
    expect(e.stats().downOps.DL).toBe(0);
  });
});

describe('collection (§7.3) and observability (§7.11)', () => {
  it('21, 24: results reach the consumer strictly in file order; transferred is their sum', async () => {
    const e = engine({ rsize: 512 * 1024, perRequest: 4 });
    const size = files['big']!.length;
    const c = collector(0);
    const out = await e.read('/big.bin', { offset: 0, length: size, size, consumer: c.consumer });
    expect(out.transferred).toBe(size);
    expect(sha(c.bytes())).toBe(sha(files['big']!));
    // Progress notes deliver data before whole subrequests end, but never out of order.
    expect(c.calls.length).toBeGreaterThan(Math.ceil(size / (512 * 1024)) - 1);
  });

  it('87: each issued read subrequest counts DL/RD/ZR once and each terminated one ds/rs', async () => {
    const e = engine({ rsize: 1 * MiB });
    const size = files['three']!.length;
    await e.read('/three.bin', { offset: 0, length: size, size, consumer: collector(0).consumer });
    const s = e.stats();
    expect(s.downOps.DL).toBe(4);
    expect(s.downOps.ds).toBe(4);
    expect(s.caRdOps.RD + s.zeroOps.ZR).toBe(0);
    expect(s.reads.RF).toBe(1);
    expect(e.formatStats()).toMatch(/^DownOps: DL=4 ds=4 df=0 di=0$/m);
  });

  it('88: every trace line of a request carries its debug id; the request list shows origin, flags, error, coverage', async () => {
    const e = engine({ rsize: 1 * MiB });
    const size = files['three']!.length;
    let seen: ReturnType<NetfsEngine['requests']> = [];
    const slow: ReadConsumer = {
      async deliver() {
        if (seen.length === 0) seen = e.requests();
      },
    };
    const out = await e.read('/three.bin', { offset: 0, length: size, size, consumer: slow });
    const id = out.request.debugId;
    const lines = e.trace().filter((t) => t.rreq === id);
    expect(lines.map((l) => l.what)).toEqual(expect.arrayContaining(['NEW', 'ADD', 'SUBMT', 'TERM', 'CONSM', 'ALL-Q', 'DONE', 'FREE']));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ debugId: id, origin: 'RP', error: null, start: 0, len: size });
    const { formatRequestLine } = await import('./objects.js');
    expect(formatRequestLine(seen[0]!)).toMatch(new RegExp(`^${id.toString(16).padStart(8, '0')} RP .*@0 [0-9a-f]+/${size.toString(16)}$`));
  });
});

describe('change, cancellation and failure', () => {
  it('a file changed on the server during a download fails CHANGED_ON_SERVER and leaves nothing', async () => {
    await apache.writeFile('/changing.bin', randomBytes(2 * MiB));
    await new Promise((r) => setTimeout(r, 1100)); // Apache's ETag turns strong after a second
    const v1 = await dav.stat('/changing.bin');
    expect(v1.etagStrength).toBe('strong');
    await apache.writeFile('/changing.bin', randomBytes(2 * MiB + 1));
    const target = join(dir, 'changing.out');
    const e = engine();
    const err = await e.download('/changing.bin', { size: v1.size!, expect: { etag: v1.etag, size: v1.size, mtimeMs: v1.mtimeMs }, target }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CHANGED_ON_SERVER');
    await expect(stat(target)).rejects.toThrow();
    expect(e.ctx.pool.inUse).toBe(0);
  });

  it('a cancelled download ends CANCELLED, hands on nothing as complete, and returns every block', async () => {
    const e = engine({ rsize: 256 * 1024, perRequest: 1 });
    const ac = new AbortController();
    const target = join(dir, 'cancelled.out');
    const p = e.download('/big.bin', { size: files['big']!.length, target, signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    const err = await p.catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CANCELLED');
    await expect(stat(target)).rejects.toThrow();
    expect(e.ctx.pool.inUse).toBe(0);
    expect(e.stats().objs).toMatchObject({ rr: 0, sr: 0 });
  });

  it('19: a server read error that is not retryable fails the request with that error', async () => {
    const e = engine();
    const c = collector(0);
    const err = await e.read('/missing.bin', { offset: 0, length: 10, size: 10, consumer: c.consumer }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('NOT_FOUND');
    expect(e.stats().downOps.df).toBe(1);
    expect(e.stats().retries.rs).toBe(0);
  });

  it('14: a short read at EOF (the file shrank) is zero-filled for a range read and refused for a download', async () => {
    await apache.writeFile('/shrunk.bin', Buffer.from('0123456789'));
    const e = engine();
    const c = collector(0);
    const out = await e.read('/shrunk.bin', { offset: 0, length: 20, size: 20, consumer: c.consumer });
    expect(c.bytes()).toEqual(Buffer.concat([Buffer.from('0123456789'), Buffer.alloc(10)]));
    expect(out.shortAt).toBe(10);
    const err = await e.download('/shrunk.bin', { size: 20, target: join(dir, 'shrunk.out') }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CHANGED_ON_SERVER');
  });
});

describe('unbuffered reads (DIO semantics)', () => {
  it('24: a short read at EOF ends the read short; nothing after it is counted or zero-filled', async () => {
    await apache.writeFile('/shrunk-ur.bin', Buffer.from('0123456789'));
    const e = engine({ rsize: 4 });
    const c = collector(0);
    const out = await e.read('/shrunk-ur.bin', { offset: 0, length: 20, size: 20, consumer: c.consumer, unbuffered: true });
    expect(out.transferred).toBe(10);
    expect(c.bytes().toString()).toBe('0123456789');
    expect(out.request.origin).toBe('UR');
  });
});

describe('the synced local copy as a third source', () => {
  it('reads from the local copy with no server I/O', async () => {
    const local = join(dir, 'local-copy.bin');
    await writeFile(local, files['three']!);
    const e = engine({ rsize: 1 * MiB });
    const c = collector(0);
    const size = files['three']!.length;
    await e.read('/three.bin', { offset: 0, length: size, size, consumer: c.consumer, localCopy: local });
    expect(sha(c.bytes())).toBe(sha(files['three']!));
    expect(e.stats().downOps.DL).toBe(0);
  });
});

describe('the event stream for the app', () => {
  it('coalesces: at most 10 snapshots a second however busy the engine is, with rising sequence numbers, ending idle', async () => {
    const e = engine({ rsize: 64 * 1024 });
    const snaps: Array<{ seq: number; t: number; live: number }> = [];
    const off = e.onSnapshot((s) => snaps.push({ seq: s.seq, t: s.timeMs, live: s.requests.length }));
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await e.download('/big.bin', { size: files['big']!.length, target: join(dir, `ev${i}.out`) });
    await new Promise((r) => setTimeout(r, 250));
    off();
    const seconds = (Date.now() - t0) / 1000;
    expect(e.trace().length).toBeGreaterThan(100);
    expect(snaps.length).toBeGreaterThan(1);
    expect(snaps.length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 1);
    for (let i = 1; i < snaps.length; i++) {
      expect(snaps[i]!.seq).toBe(snaps[i - 1]!.seq + 1);
      expect(snaps[i]!.t - snaps[i - 1]!.t).toBeGreaterThanOrEqual(95);
    }
    expect(snaps.at(-1)!.live).toBe(0);
  });
});

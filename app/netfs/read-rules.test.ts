// Termination, pausing and wake-up rules of the read path (netfs-digest §2.4-2.6; behaviours 13,
// 17, 20, 26, 27, 28), against a real Apache through the real fault proxy.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBackend } from '../remote/local/backend.js';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { startFaultProxy, type FaultProxy } from '../testing/fault-proxy.js';
import { BufferPool } from './buffer-pool.js';
import { bvecqSlice } from './bvecq.js';
import { createEngineContext } from './context.js';
import { NetfsEngine } from './engine.js';
import { RREQ, SREQ } from './objects.js';
import { collectReads, terminateReadSubrequest } from './read-collect.js';
import { ReadState } from './read-request.js';

const MiB = 1024 * 1024;
let apache: ApacheServer;
let proxy: FaultProxy;
let dir: string;
const backends: WebdavBackend[] = [];

function engine(opts: { rsize?: number; capacity?: number; perRequest?: number } = {}) {
  const dav = createWebdavBackend({ url: proxy.url(), user: apache.user, password: apache.password });
  backends.push(dav);
  const pool = new BufferPool({ blockSize: 256 * 1024, capacity: opts.capacity ?? 16 * MiB });
  return new NetfsEngine({ backend: dav, pool, limits: { rsize: opts.rsize ?? 64 * 1024, maxInFlightPerRequest: opts.perRequest ?? 4 }, pacer: { baseMs: 20, maxBackoffMs: 100 } });
}

const sink = { deliver() {} };

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.url });
  dir = await mkdtemp(join(tmpdir(), 'netfs-rules-'));
  await apache.writeFile('/small.bin', randomBytes(1 * MiB));
  await apache.writeFile('/big.bin', randomBytes(64 * MiB));
});
afterEach(() => {
  proxy.clearRules();
  proxy.clearRequests();
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await proxy?.close();
  await apache?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('termination rules, applied to a real subrequest of a real request', () => {
  function oneSubrequest() {
    const ctx = createEngineContext({ backend: createLocalBackend({ url: `file://${dir}` }), pool: new BufferPool({ blockSize: 64 * 1024, capacity: 1 * MiB }) });
    const rs = new ReadState(ctx, { origin: 'read', path: '/x', start: 0, len: 1000, size: 1000, consumer: sink });
    rs.chain.load(ctx.pool.alloc()!, { len: 1000 });
    const sreq = rs.req.newSubrequest(0, 'DOWN', 0, 1000, bvecqSlice(rs.dispatch, 1000));
    sreq.set(SREQ.IN_PROGRESS);
    rs.inFlight = 1;
    return { rs, sreq, ctx };
  }

  it('13: more data than asked for fails the subrequest, resets transferred to 0, and is not retried', () => {
    const { rs, sreq, ctx } = oneSubrequest();
    terminateReadSubrequest(rs, sreq, 0, { transferred: 1001, eof: false });
    expect(sreq.has(SREQ.FAILED)).toBe(true);
    expect(sreq.has(SREQ.NEED_RETRY)).toBe(false);
    expect(sreq.transferred).toBe(0);
    expect(ctx.trace.events().some((t) => t.what === '!TOOM')).toBe(true);
  });

  it('17: a short read with no progress and no EOF fails with "no data" and is not retried', () => {
    const { rs, sreq, ctx } = oneSubrequest();
    terminateReadSubrequest(rs, sreq, 0, { transferred: 0, eof: false });
    expect(sreq.has(SREQ.FAILED)).toBe(true);
    expect(sreq.has(SREQ.NEED_RETRY)).toBe(false);
    expect(sreq.error?.message).toMatch(/no data/);
    expect(ctx.stats.downOps.df).toBe(1);
  });

  it('16: a short read with progress and no EOF needs a retry for the rest', () => {
    const { rs, sreq } = oneSubrequest();
    terminateReadSubrequest(rs, sreq, 0, { transferred: 400, eof: false });
    expect(sreq.has(SREQ.NEED_RETRY)).toBe(true);
    expect(sreq.transferred).toBe(400);
  });

  it('15: a short read flagged clear-tail is zero-filled and counted like EOF, without being EOF', async () => {
    const got: Buffer[] = [];
    const ctx = createEngineContext({ backend: createLocalBackend({ url: `file://${dir}` }), pool: new BufferPool({ blockSize: 64 * 1024, capacity: 1 * MiB }) });
    const rs = new ReadState(ctx, { origin: 'read', path: '/x', start: 0, len: 1000, size: 5000, consumer: { deliver: (_f, v) => void got.push(...v.map((x) => Buffer.from(x))) } });
    rs.chain.load(ctx.pool.alloc()!, { len: 1000 });
    const sreq = rs.req.newSubrequest(0, 'DOWN', 0, 1000, bvecqSlice(rs.dispatch, 1000));
    sreq.slice!.views[0]!.fill(9, 0, 400);
    sreq.slice!.views[0]!.fill(7, 400);
    sreq.set(SREQ.IN_PROGRESS);
    rs.inFlight = 1;
    rs.req.set(RREQ.ALL_QUEUED);
    terminateReadSubrequest(rs, sreq, 0, { transferred: 400, eof: false, clearTail: true });
    expect(sreq.has(SREQ.CLEAR_TAIL) && !sreq.has(SREQ.NEED_RETRY) && !sreq.has(SREQ.FAILED)).toBe(true);
    await collectReads(rs);
    const all = Buffer.concat(got);
    expect(all.length).toBe(1000);
    expect(all.subarray(0, 400).every((b) => b === 9)).toBe(true);
    expect(all.subarray(400).every((b) => b === 0)).toBe(true);
    expect(rs.req.transferred).toBe(1000);
    expect(rs.shortAt).toBeNull();
    rs.dispatch.detach();
    rs.collectPos.detach();
    rs.chain.release();
    expect(ctx.pool.inUse).toBe(0);
  });

  it('14: a short read at EOF is a success (the tail is zero-filled by the collector)', () => {
    const { rs, sreq } = oneSubrequest();
    terminateReadSubrequest(rs, sreq, 0, { transferred: 400, eof: true });
    expect(sreq.has(SREQ.HIT_EOF)).toBe(true);
    expect(sreq.has(SREQ.FAILED) || sreq.has(SREQ.NEED_RETRY)).toBe(false);
  });
});

describe('pausing, first error, wake-ups', () => {
  it('20: a subrequest that needs a retry pauses issuing until the collector makes progress', async () => {
    const e = engine({ rsize: 64 * 1024, perRequest: 2 });
    proxy.addRule({ match: { method: 'GET', nth: 1 }, action: { kind: 'status', status: 503 } });
    await e.read('/small.bin', { offset: 0, length: MiB, size: MiB, consumer: sink });
    const t = e.trace().filter((x) => x.kind === 'rreq' || x.kind === 'sreq');
    const paused = t.findIndex((x) => x.what === 'PAUSE');
    const unpaused = t.findIndex((x, i) => i > paused && x.what === 'UNPAUSE');
    expect(paused).toBeGreaterThan(-1);
    expect(unpaused).toBeGreaterThan(paused);
    expect(t.slice(paused, unpaused).filter((x) => x.what === 'ADD')).toEqual([]);
  });

  it('25: when the issuer fails part way the request fails, even though every submitted subrequest succeeded', async () => {
    const e = engine({ rsize: 64 * 1024 });
    let queries = 0;
    const brokenCache = {
      blockSize: 4096,
      granule: 65536,
      async queryOccupancy(start: number) {
        if (++queries > 1) throw new Error('cache index unreadable');
        return [{ start, end: start + 65536, type: 'ZERO' as const }];
      },
      async read(): Promise<number> {
        throw new Error('not reached');
      },
      async write() {},
      async collectWrite() {},
      async invalidate() {},
    };
    const err = await e.read('/small.bin', { offset: 0, length: MiB, size: MiB, consumer: sink, cache: brokenCache }).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'IO', message: expect.stringMatching(/cache index unreadable/) });
    const t = e.trace();
    expect(t.filter((x) => x.what === 'ADD')).toHaveLength(1);
    expect(t.some((x) => x.what === 'FAIL')).toBe(false);
  });

  it('26: the request error is the first error; later ones never overwrite it', async () => {
    const e = engine({ rsize: 64 * 1024, perRequest: 4 });
    proxy.addRule({ match: { method: 'GET', nth: 1 }, action: { kind: 'status', status: 403 } });
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'status', status: 404 } });
    const err = await e.read('/small.bin', { offset: 0, length: MiB, size: MiB, consumer: sink }).catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('27: one 64 MiB download reporting progress per chunk wakes the collector at most 64 MiB / 256 KiB times', async () => {
    const e = engine({ rsize: 64 * MiB, capacity: 128 * MiB, perRequest: 1 });
    const out = await e.read('/big.bin', { offset: 0, length: 64 * MiB, size: 64 * MiB, consumer: sink });
    const passes = e.trace().filter((t) => t.kind === 'collect' && t.rreq === out.request.debugId).length;
    expect(passes).toBeGreaterThan(4);
    expect(passes).toBeLessThanOrEqual(256 + 4);
  });

  it('J: with 2 MiB segments the collector wakes at most once per 2 MiB of progress', async () => {
    const dav = createWebdavBackend({ url: proxy.url(), user: apache.user, password: apache.password });
    backends.push(dav);
    const e = new NetfsEngine({ backend: dav, pool: new BufferPool({ blockSize: 2 * MiB, capacity: 160 * MiB }), limits: { rsize: 64 * MiB, maxInFlightPerRequest: 1 } });
    const out = await e.read('/big.bin', { offset: 0, length: 64 * MiB, size: 64 * MiB, consumer: sink });
    const passes = e.trace().filter((t) => t.kind === 'collect' && t.rreq === out.request.debugId).length;
    expect(passes).toBeLessThanOrEqual(32 + 4);
  });

  it('I: a server that sends 4097 bytes for a 4096-byte request fails the request; nothing past the buffer is written', async () => {
    const { startReplayServer } = await import('../testing/replay-server.js');
    const replay = await startReplayServer(async (_req, reply) =>
      reply.send({ status: 206, headers: { 'content-range': 'bytes 0-4096/10000' }, body: Buffer.alloc(4097, 7) }),
    );
    const dav = createWebdavBackend({ url: replay.url });
    backends.push(dav);
    const pool = new BufferPool({ blockSize: 4096, capacity: 64 * 1024 });
    const e = new NetfsEngine({ backend: dav, pool, limits: { rsize: 4096 } });
    const got: number[] = [];
    const err = await e
      .read('/f', { offset: 0, length: 4096, size: 10000, consumer: { deliver: (_f, v) => void got.push(v.length) } })
      .catch((x: unknown) => x);
    await replay.close();
    expect(err).toMatchObject({ code: 'TOO_LARGE' });
    expect(got).toEqual([]);
    expect(replay.requests).toHaveLength(1);
    expect(pool.inUse).toBe(0);
  });

  it('28: completions behind an unfinished head cause no collection work', async () => {
    const e = engine({ rsize: 256 * 1024, perRequest: 4 });
    proxy.addRule({ match: { method: 'GET', nth: 1 }, action: { kind: 'delay', ms: 400 } });
    const out = await e.read('/small.bin', { offset: 0, length: MiB, size: MiB, consumer: sink });
    const t = e.trace().filter((x) => x.rreq === out.request.debugId);
    // Until the head itself reports progress (PRGRS) or ends (TERM), nothing may be collected.
    const headDone = t.findIndex((x) => x.kind === 'sreq' && x.sreq === 0 && (x.what === 'TERM' || x.what === 'PRGRS'));
    const othersDone = t.filter((x, i) => i < headDone && x.kind === 'sreq' && x.sreq !== 0 && x.what === 'TERM');
    expect(othersDone.length).toBe(3);
    const firstOther = t.indexOf(othersDone[0]!);
    // The only pass allowed in between is the one the issuer asks for when it has queued everything.
    const window = t.slice(firstOther, headDone);
    expect(window.filter((x) => x.kind === 'collect').length).toBeLessThanOrEqual(window.filter((x) => x.what === 'ALL-Q').length);
  });
});

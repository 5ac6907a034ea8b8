// The read path under faults from a real proxy in front of a real Apache (test-scenarios F1, F2,
// F3, F8; netfs-digest behaviours 13, 16, 18, 57, 59, 62, 63; §4.5 scenarios).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { startFaultProxy, type FaultProxy } from '../testing/fault-proxy.js';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';
import { SREQ } from './objects.js';

const MiB = 1024 * 1024;
let apache: ApacheServer;
let proxy: FaultProxy;
let dir: string;
const backends: WebdavBackend[] = [];
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const data: Record<string, Buffer> = {};

function engine(opts: { rsize?: number; capacity?: number; headersMs?: number; baseMs?: number } = {}) {
  const dav = createWebdavBackend({
    url: proxy.url(),
    user: apache.user,
    password: apache.password,
    timeouts: { headersMs: opts.headersMs ?? 10_000, bodyIdleMs: 5_000 },
  });
  backends.push(dav);
  const pool = new BufferPool({ blockSize: 256 * 1024, capacity: opts.capacity ?? 64 * MiB });
  return new NetfsEngine({ backend: dav, pool, limits: { rsize: opts.rsize ?? 1 * MiB }, pacer: { baseMs: opts.baseMs ?? 20, maxBackoffMs: 200 } });
}

async function download(e: NetfsEngine, name: string): Promise<Buffer> {
  const target = join(dir, `${name}-${Math.random().toString(36).slice(2)}.out`);
  await e.download(`/${name}`, { size: data[name]!.length, target });
  return readFile(target);
}

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.url });
  dir = await mkdtemp(join(tmpdir(), 'netfs-faults-'));
  data['thirty.bin'] = randomBytes(30 * 1000 * 1000);
  await apache.writeFile('/thirty.bin', data['thirty.bin']);
  for (let i = 0; i < 50; i++) {
    data[`f${i}.bin`] = randomBytes(200_000 + i * 977);
    await apache.writeFile(`/f${i}.bin`, data[`f${i}.bin`]!);
  }
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

describe('F2 / behaviour 16: a body cut short is resumed for exactly the rest', () => {
  it('a GET cut at 3 MB of 30 MB is reissued once with Range: bytes=3145728-… and the file is byte-exact', async () => {
    const e = engine({ rsize: 32 * MiB });
    proxy.addRule({ match: { method: 'GET', nth: 1 }, action: { kind: 'truncate', afterBodyBytes: 3 * MiB } });
    const got = await download(e, 'thirty.bin');
    expect(sha(got)).toBe(sha(data['thirty.bin']!));
    const ranges = proxy.requests.filter((r) => r.method === 'GET').map((r) => r.headers['range']);
    expect(ranges).toEqual(['bytes=0-29999999', 'bytes=3145728-29999999']);
    expect(e.stats().retries).toMatchObject({ rq: 1, rs: 1 });
    expect(e.trace().some((t) => t.what === 'PARTR')).toBe(true);
  });
});

describe('F1: resets on 1 request in 20 across 50 downloads', () => {
  it('every file is byte-exact and no subrequest is retried more than 3 times', async () => {
    const e = engine({ rsize: 64 * 1024 });
    const cuts = ['before-headers', 'mid-headers', 'mid-body'] as const;
    proxy.addRule({
      match: { method: 'GET', every: 20, seed: 7 },
      action: (_r, fire) => ({ kind: fire % 2 === 0 ? 'reset' : 'close', at: cuts[fire % 3]!, afterBodyBytes: (fire * 7919) % 60_000 }),
    });
    for (let i = 0; i < 50; i++) {
      const got = await download(e, `f${i}.bin`);
      expect(sha(got), `f${i}.bin`).toBe(sha(data[`f${i}.bin`]!));
    }
    const cut = proxy.requests.filter((r) => r.rule !== null).length;
    expect(cut).toBeGreaterThan(5);
    expect(e.stats().retries.rs).toBeGreaterThanOrEqual(cut);
    expect(e.trace().filter((t) => t.what === '!RETR')).toEqual([]);
    expect(e.ctx.pool.inUse).toBe(0);
  });
});

describe('F3: a server that accepts and never answers', () => {
  it('gives a timeout error within the configured limit (after at most 3 retries)', async () => {
    const e = engine({ headersMs: 300 });
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'hang' } });
    const t0 = Date.now();
    const err = await download(e, 'f1.bin').catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
    expect((err as Error).message).toMatch(/no answer within/);
    expect(Date.now() - t0).toBeLessThan(4 * 300 + 3 * 200 + 3000);
    // 62: fails with its last error after 3 retries.
    expect(proxy.requests.filter((r) => r.method === 'GET')).toHaveLength(4);
    expect(e.trace().some((t) => t.what === '!RETR')).toBe(true);
  });
});

describe('F8: no request reaches the server before its Retry-After', () => {
  it.each([
    ['seconds', 2 as number | Date],
    ['an HTTP-date', 'date' as const],
  ])('Retry-After as %s', async (_name, value) => {
    // One subrequest per file, so nothing was already on its way when the 429 came back.
    const e = engine({ rsize: 1 * MiB });
    const retryAfter = value === 'date' ? new Date(Date.now() + 3000) : value;
    proxy.addRule({ match: { method: 'GET', nth: 1 }, action: { kind: 'status', status: 429, retryAfter } });
    const got = await download(e, 'f2.bin');
    expect(sha(got)).toBe(sha(data['f2.bin']!));
    const first = proxy.requests.find((r) => r.status === 429)!;
    const quietUntil = value === 'date' ? Math.floor((retryAfter as Date).getTime() / 1000) * 1000 : first.time + 2000;
    const later = proxy.requests.filter((r) => r.index > first.index);
    expect(later.length).toBeGreaterThan(0);
    for (const r of later) expect(r.time).toBeGreaterThanOrEqual(quietUntil - 50);
  });

  it('an absurd Retry-After is capped at one hour and given back to the caller as TRANSIENT with retryAfterMs, without waiting', async () => {
    const e = engine();
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'status', status: 503, retryAfter: 999999999 } });
    const t0 = Date.now();
    const err = await download(e, 'f3.bin').catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'TRANSIENT', retryAfterMs: 3_600_000 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(e.ctx.pacer.quietUntil(e.ctx.backend.origin)).toBeGreaterThan(Date.now() + 3_000_000);
    // The next request to that server is not sent, nor left waiting for an hour: it fails at once.
    proxy.clearRules();
    proxy.clearRequests();
    const t1 = Date.now();
    const again = await download(e, 'f3.bin').catch((x: unknown) => x);
    expect(again).toMatchObject({ code: 'TRANSIENT' });
    expect((again as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(3_000_000);
    expect(Date.now() - t1).toBeLessThan(3000);
    expect(proxy.requests).toHaveLength(0);
  });
});

describe('behaviour 13: a server that ignores Range', () => {
  it('the subrequest fails as too much data, the server is marked, and the request is redone once as one GET from 0', async () => {
    const e = engine({ rsize: 64 * 1024 });
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'ignore-range' } });
    const got = await download(e, 'f4.bin');
    expect(sha(got)).toBe(sha(data['f4.bin']!));
    expect(e.ctx.noRanges.has(e.ctx.backend.origin)).toBe(true);
    expect(e.trace().some((t) => t.what === '!TOOM')).toBe(true);
    const gets = proxy.requests.filter((r) => r.method === 'GET');
    // One ranged attempt per subrequest in flight at most, then exactly one whole GET.
    expect(gets.at(-1)!.headers['range']).toBe(`bytes=0-${data['f4.bin']!.length - 1}`);
  });
});

describe('behaviours 57, 63: retry passes', () => {
  it('a retry pass starts only once nothing is in flight; rq counts passes and rs re-issued subrequests', async () => {
    const e = engine({ rsize: 32 * 1024 });
    proxy.addRule({ match: { method: 'GET', nth: 2 }, action: { kind: 'status', status: 500 } });
    proxy.addRule({ match: { method: 'GET', nth: 3 }, action: { kind: 'delay', ms: 300 } });
    const got = await download(e, 'f5.bin');
    expect(sha(got)).toBe(sha(data['f5.bin']!));
    const events = e.trace();
    const retryAt = events.find((t) => t.kind === 'rreq' && t.what === 'RETRY')!.seq;
    // Every subrequest issued before the pass had terminated before it began.
    const before = events.filter((t) => t.seq < retryAt);
    const submitted = before.filter((t) => t.what === 'SUBMT').length;
    const ended = before.filter((t) => ['TERM', 'ND-RT', 'PARTR', 'FAIL', 'EOF'].includes(t.what)).length;
    expect(ended).toBe(submitted);
    expect(e.stats().retries.rq).toBeGreaterThanOrEqual(1);
    expect(e.stats().retries.rs).toBe(1);
  });

  it('a 5xx on every try fails after 3 re-issues with the last error (62)', async () => {
    const e = engine();
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'status', status: 502 } });
    const err = await download(e, 'f6.bin').catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'TRANSIENT', status: 502 });
    const gets = proxy.requests.filter((r) => r.method === 'GET');
    expect(gets.length).toBeLessThanOrEqual(4 * 4);
    const described = e.trace().filter((t) => t.what === 'RETRY' && t.kind === 'sreq');
    expect(described.length).toBeGreaterThan(0);
    expect(SREQ.FAILED).toBeGreaterThan(0);
  });
});

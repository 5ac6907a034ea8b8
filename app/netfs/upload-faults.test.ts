// Upload retries through the fault proxy in front of a real Apache mod_dav: resets, 5xx,
// 507, Retry-After, a lost answer. Behaviours 45, 46, 62, 63 (netfs-digest §7.5, §7.7) and
// scenarios F8, F10, C3 (test-scenarios.md). A PUT cannot be resumed on WebDAV: every retry
// sends the whole file again from byte 0.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError, type NetfsError } from '../api/errors.js';
import { CacheStore } from '../cache/store.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { startFaultProxy, type FaultProxy } from '../testing/fault-proxy.js';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';

const MiB = 1024 * 1024;
let apache: ApacheServer;
let proxy: FaultProxy;
let dav: WebdavBackend;
let dir: string;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function engine(pacer: { baseMs?: number; maxWaitMs?: number } = {}) {
  const pool = new BufferPool({ blockSize: 256 * 1024, capacity: 8 * MiB });
  return new NetfsEngine({ backend: dav, pool, limits: { wsize: 1 * MiB }, pacer: { baseMs: 5, ...pacer } });
}

async function localFile(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

function putsOf(name: string) {
  return proxy.requests.filter((r) => r.method === 'PUT' && r.path === `/dav/${name}`);
}

function expectClean(e: NetfsEngine): void {
  expect(e.ctx.pool.inUse).toBe(0);
  expect(e.stats().objs).toMatchObject({ rr: 0, sr: 0 });
  expect(e.requests()).toEqual([]);
}

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  dav = createWebdavBackend({ url: proxy.url(apache.url), user: apache.user, password: apache.password });
  dir = await mkdtemp(join(tmpdir(), 'netfs-upload-faults-'));
});
afterEach(() => proxy.clearRules());
afterAll(async () => {
  await dav?.close();
  await proxy?.close();
  await apache?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('retries of the one PUT (§7.5, §7.7)', () => {
  it('45/46: a connection reset mid-PUT is retried from byte 0 and the file ends byte-exact', async () => {
    proxy.addRule({ match: { method: 'PUT', path: '/dav/reset.bin', nth: 1 }, action: { kind: 'reset', at: 'before-headers' } });
    const bytes = randomBytes(6 * MiB + 99);
    const e = engine();
    const out = await e.upload('/reset.bin', { localFile: await localFile('reset.src', bytes), precondition: { kind: 'absent' } });
    if (out.status !== 'uploaded') throw new Error('not uploaded');
    expect(sha(await readFile(apache.pathOf('reset.bin')))).toBe(sha(bytes));
    expect(putsOf('reset.bin').map((r) => r.outcome)).toEqual(['reset', 'complete']);
    // One retry pass (wq), every window the broken attempt had started re-issued (ws), each
    // window created once (UL) (behaviour 63).
    const s = e.stats();
    expect(s.retries.wq).toBe(1);
    expect(s.retries.ws).toBeGreaterThanOrEqual(1);
    expect(s.upldOps.UL).toBe(7);
    expect(out.request.retries).toBe(1);
    const retry = e.trace().find((t) => t.rreq === out.request.debugId && t.kind === 'rreq' && t.what === 'RETRY');
    expect(retry?.note).toMatch(/from byte 0 \(a WebDAV PUT cannot be resumed/);
    // The re-issued windows keep their debug ids (same subrequest objects).
    const retried = e.trace().filter((t) => t.rreq === out.request.debugId && t.kind === 'sreq' && t.what === 'RETRY');
    expect(retried.length).toBe(s.retries.ws);
    expect(retried.every((t) => t.source === 'UPLD')).toBe(true);
    expectClean(e);
  });

  it('47: the cache stream carries on across a retry: bytes a broken attempt cached are not written again', async () => {
    proxy.addRule({ match: { method: 'PUT', path: '/dav/reset-cached.bin', nth: 1 }, action: { kind: 'reset', at: 'before-headers' } });
    const size = 4 * MiB + 3;
    const bytes = randomBytes(size);
    const store = await CacheStore.open(join(dir, 'cache'), { volume: 'acct' });
    const cache = await store.openObject('/reset-cached.bin', { etag: null, lastModified: null, size });
    const e = engine();
    const out = await e.upload('/reset-cached.bin', { localFile: await localFile('reset-cached.src', bytes), precondition: { kind: 'absent' }, cache });
    if (out.status !== 'uploaded') throw new Error('not uploaded');
    expect(e.stats().retries.wq).toBe(1);
    expect(out.cache).toBe('current');
    const starts = e.trace().filter((t) => t.source === 'WRIT' && t.what === 'ADD').map((t) => t.start);
    expect(starts.length).toBeGreaterThan(0);
    expect(new Set(starts).size).toBe(starts.length);
    expect(cache.committedRanges).toEqual([[0, size]]);
    expect(sha((await readFile(cache.path)).subarray(0, size))).toBe(sha(bytes));
    expect(sha(await readFile(apache.pathOf('reset-cached.bin')))).toBe(sha(bytes));
    expectClean(e);
    await store.close();
  });

  it('62: a 500 on every PUT fails after 3 retries with its last error, nothing committed', async () => {
    proxy.addRule({ match: { method: 'PUT', path: '/dav/always-500.bin' }, action: { kind: 'status', status: 500 } });
    const e = engine();
    const err = (await e.upload('/always-500.bin', { localFile: await localFile('500.src', randomBytes(2 * MiB)), precondition: { kind: 'absent' } }).catch((x: unknown) => x)) as NetfsError;
    expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
    expect(err.status).toBe(500);
    expect(putsOf('always-500.bin')).toHaveLength(4);
    expect(e.stats().retries.wq).toBe(3);
    expect(existsSync(apache.pathOf('always-500.bin'))).toBe(false);
    expectClean(e);
  });

  it('F10: a 507 fails at once as INSUFFICIENT_STORAGE and is not retried', async () => {
    proxy.addRule({ match: { method: 'PUT', path: '/dav/quota.bin' }, action: { kind: 'status', status: 507 } });
    const e = engine();
    const err = await e.upload('/quota.bin', { localFile: await localFile('quota.src', randomBytes(3 * MiB)), precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('INSUFFICIENT_STORAGE');
    expect(putsOf('quota.bin')).toHaveLength(1);
    expect(e.stats().retries.wq).toBe(0);
    expect(e.stats().upldOps.uf).toBe(1);
    expectClean(e);
  });

  it('F8: after a 503 with Retry-After: 1 the retry waits that long (the pacer), then succeeds', async () => {
    proxy.addRule({ match: { method: 'PUT', path: '/dav/busy.bin' }, action: { kind: 'status', status: 503, retryAfter: 1 }, times: 1 });
    const bytes = randomBytes(300_000);
    const e = engine();
    const out = await e.upload('/busy.bin', { localFile: await localFile('busy.src', bytes), precondition: { kind: 'absent' } });
    expect(out.status).toBe('uploaded');
    const [first, second] = putsOf('busy.bin');
    expect([first?.status, second?.status]).toEqual([503, 201]);
    expect(second!.time - first!.endTime!).toBeGreaterThanOrEqual(950);
    expect(sha(await readFile(apache.pathOf('busy.bin')))).toBe(sha(bytes));
    expectClean(e);
  });

  it('F8: a Retry-After longer than the engine waits fails at once as TRANSIENT with retryAfterMs (the sync layer reschedules)', async () => {
    proxy.addRule({ match: { method: 'PUT', path: '/dav/later.bin' }, action: { kind: 'status', status: 429, retryAfter: 120 } });
    const e = engine({ maxWaitMs: 5_000 });
    const err = (await e.upload('/later.bin', { localFile: await localFile('later.src', randomBytes(1000)), precondition: { kind: 'absent' } }).catch((x: unknown) => x)) as NetfsError;
    expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
    expect(err.retryAfterMs).toBe(120_000);
    expect(putsOf('later.bin')).toHaveLength(1);
    expectClean(e);
  });

  it('C3: the answer to a committed PUT is lost; the retry meets its own file (If-None-Match: *) and reports CHANGED_ON_SERVER', async () => {
    proxy.addRule({ match: { method: 'PUT', path: '/dav/lost-answer.bin', nth: 1 }, action: { kind: 'reset', at: 'before-headers', forward: true } });
    const bytes = randomBytes(500_000);
    const e = engine();
    const err = await e.upload('/lost-answer.bin', { localFile: await localFile('lost.src', bytes), precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    // The server did the PUT; the client cannot know. The retry's precondition protects the
    // server's file, and the sync layer re-plans (and finds the same bytes there).
    expect(isNetfsError(err) && err.code).toBe('CHANGED_ON_SERVER');
    expect(putsOf('lost-answer.bin').map((r) => [r.upstreamStatus, r.outcome])).toEqual([
      [201, 'reset'],
      [412, 'complete'],
    ]);
    expect(sha(await readFile(apache.pathOf('lost-answer.bin')))).toBe(sha(bytes));
    expectClean(e);
  });
});

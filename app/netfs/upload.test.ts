// The upload path against a real Apache mod_dav: byte-exact uploads through the buffer chain,
// bounded memory, preconditions on the wire, the writeback lock, subrequest windows, local
// changes during an upload, cancellation. Behaviour numbers are netfs-digest §7's; scenario
// ids (B7, F11, F12) are test-scenarios.md's.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, truncateSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { createWebdavBackend, type WebdavBackend } from '../remote/webdav/backend.js';
import { BufferPool } from './buffer-pool.js';
import { NetfsEngine } from './engine.js';
import type { TraceEvent } from './trace.js';

const MiB = 1024 * 1024;
let apache: ApacheServer;
let dav: WebdavBackend;
let dir: string;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function engine(opts: { wsize?: number; blockSize?: number; capacity?: number } = {}) {
  const pool = new BufferPool({ blockSize: opts.blockSize ?? 256 * 1024, capacity: opts.capacity ?? 16 * MiB });
  return new NetfsEngine({ backend: dav, pool, limits: { wsize: opts.wsize ?? 1 * MiB }, pacer: { baseMs: 5 } });
}

async function localFile(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

function uploadAdds(e: NetfsEngine, rreq: number): TraceEvent[] {
  return e.trace().filter((t) => t.kind === 'sreq' && t.rreq === rreq && t.source === 'UPLD' && t.what === 'ADD');
}

/** Everything went back: no block, request or subrequest left behind (behaviour 86). */
function expectClean(e: NetfsEngine): void {
  expect(e.ctx.pool.inUse).toBe(0);
  expect(e.stats().objs).toMatchObject({ rr: 0, sr: 0 });
  expect(e.requests()).toEqual([]);
  expect(e.ctx.wbLocks.size).toBe(0);
}

async function puts(path: string): Promise<Array<{ status: number; ifMatch: string | null; ifNoneMatch: string | null }>> {
  await new Promise((r) => setTimeout(r, 60));
  // Apache's log escapes the quotes of an entity tag (\"…\").
  return apache
    .accessLog()
    .filter((l) => l.method === 'PUT' && l.target === `/dav${path}`)
    .map((l) => ({ status: l.status, ifMatch: l.ifMatch, ifNoneMatch: l.ifNoneMatch }));
}

beforeAll(async () => {
  apache = await startApache();
  dav = createWebdavBackend({ url: apache.url, user: apache.user, password: apache.password });
  dir = await mkdtemp(join(tmpdir(), 'netfs-upload-'));
});
afterAll(async () => {
  await dav?.close();
  await apache?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('uploads are byte-exact (one PUT through the buffer chain)', () => {
  it.each([
    ['empty', 0],
    ['one', 1],
    ['odd', 300_001],
    ['block-plus-one', 256 * 1024 + 1],
    ['wsize-multiple', 3 * MiB],
    ['several-windows', 5 * MiB + 12_345],
  ])('86: %s (%i bytes) is byte-exact in one PUT; rr/sr idle afterwards', async (name, size) => {
    const bytes = randomBytes(size);
    const e = engine();
    const out = await e.upload(`/${name}.bin`, { localFile: await localFile(`${name}.src`, bytes), precondition: { kind: 'absent' } });
    expect(out.status).toBe('uploaded');
    if (out.status !== 'uploaded') return;
    expect(sha(await readFile(apache.pathOf(`${name}.bin`)))).toBe(sha(bytes));
    expect(out.bytes).toBe(size);
    expect(out.result.size).toBe(size);
    expect(out.result.etag).toBe((await dav.stat(`/${name}.bin`)).etag);
    expect(out.request).toMatchObject({ origin: 'WB', len: size, transferred: size, error: null, retries: 0 });
    expect(out.cache).toBe('none');
    expect(e.stats().writes.WP).toBe(1);
    expect((await puts(`/${name}.bin`)).map((p) => p.status)).toEqual([201]);
    expectClean(e);
  });

  it('L5: a 64 MiB upload through a 2 MiB pool: memory stays bounded by the pool, not the file', async () => {
    const size = 64 * MiB + 777;
    const bytes = randomBytes(size);
    const blockSize = 128 * 1024;
    const e = engine({ blockSize, capacity: 2 * MiB, wsize: 512 * 1024 });
    const rssBefore = process.memoryUsage().arrayBuffers;
    const out = await e.upload('/big.bin', { localFile: await localFile('big.src', bytes), precondition: { kind: 'absent' } });
    expect(out.status).toBe('uploaded');
    const pool = e.ctx.pool.stats();
    expect(pool.highWater * blockSize).toBeLessThanOrEqual(2 * MiB);
    expect(pool.reservedBytes).toBeLessThanOrEqual(2 * MiB);
    // The loader stays within wsize of the PUT, plus the transport slack and the blocks it stands in.
    expect(pool.highWater * blockSize).toBeLessThanOrEqual(512 * 1024 + 256 * 1024 + 2 * blockSize);
    expect(process.memoryUsage().arrayBuffers - rssBefore).toBeLessThan(16 * MiB);
    expect(sha(await readFile(apache.pathOf('big.bin')))).toBe(sha(bytes));
    expectClean(e);
  });
});

describe('preconditions reach the server (DESIGN §4 Writes)', () => {
  it('F11, F14: a new file is sent with If-None-Match: *, an existing one with If-Match on its ETag', async () => {
    const e = engine();
    const v1 = randomBytes(70_000);
    const first = await e.upload('/pre.bin', { localFile: await localFile('pre1.src', v1), precondition: { kind: 'absent' } });
    if (first.status !== 'uploaded') throw new Error('not uploaded');
    // Apache's ETag is weak within the second of the change; a strong one goes as If-Match.
    await new Promise((r) => setTimeout(r, 1100));
    const now = await dav.stat('/pre.bin');
    expect(now.etagStrength).toBe('strong');
    const v2 = randomBytes(90_001);
    const second = await e.upload('/pre.bin', { localFile: await localFile('pre2.src', v2), precondition: { kind: 'match', etag: now.etag, size: now.size, mtimeMs: now.mtimeMs } });
    expect(second.status).toBe('uploaded');
    const log = await puts('/pre.bin');
    expect(log.map((l) => [l.status, l.ifNoneMatch, l.ifMatch])).toEqual([
      [201, '*', null],
      [204, null, now.etag],
    ]);
    expect(sha(await readFile(apache.pathOf('pre.bin')))).toBe(sha(v2));
    expectClean(e);
  });

  it('F11: a stale If-Match is CHANGED_ON_SERVER, never retried, and the server file is untouched', async () => {
    const theirs = randomBytes(40_000);
    await apache.writeFile('/stale.bin', randomBytes(40_000));
    await new Promise((r) => setTimeout(r, 1100));
    const old = await dav.stat('/stale.bin');
    await apache.writeFile('/stale.bin', theirs);
    const e = engine();
    const err = await e
      .upload('/stale.bin', { localFile: await localFile('stale.src', randomBytes(50_000)), precondition: { kind: 'match', etag: old.etag, size: old.size, mtimeMs: old.mtimeMs } })
      .catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CHANGED_ON_SERVER');
    expect(sha(await readFile(apache.pathOf('stale.bin')))).toBe(sha(theirs));
    expect((await puts('/stale.bin')).map((l) => [l.status, l.ifMatch])).toEqual([[412, old.etag]]);
    expect(e.stats().retries.wq).toBe(0);
    expect(e.stats().upldOps.uf).toBe(1);
    expectClean(e);
  });

  it('F11: If-None-Match: * on a file that exists is CHANGED_ON_SERVER; the file is untouched', async () => {
    const theirs = randomBytes(1000);
    await apache.writeFile('/exists.bin', theirs);
    const e = engine();
    const err = await e.upload('/exists.bin', { localFile: await localFile('exists.src', randomBytes(10)), precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CHANGED_ON_SERVER');
    expect(await readFile(apache.pathOf('exists.bin'))).toEqual(theirs);
    expectClean(e);
  });
});

describe('writeback lock (§7.5)', () => {
  it('39: a second upload of the same file waits (WbLock wait), an opportunistic one skips (WbLock skip)', async () => {
    const e = engine();
    const a = randomBytes(6 * MiB);
    const c = randomBytes(3 * MiB);
    const first = e.upload('/locked.bin', { localFile: await localFile('locked-a.src', a), precondition: { kind: 'none' } });
    const skipped = await e.upload('/locked.bin', { localFile: await localFile('locked-b.src', randomBytes(10)), precondition: { kind: 'none' }, opportunistic: true });
    expect(skipped.status).toBe('skipped');
    const waiting = e.upload('/locked.bin', { localFile: await localFile('locked-c.src', c), precondition: { kind: 'none' } });
    // Another path is not held up.
    const other = await e.upload('/unlocked.bin', { localFile: await localFile('unlocked.src', randomBytes(100)), precondition: { kind: 'none' } });
    expect(other.status).toBe('uploaded');
    const [r1, r3] = await Promise.all([first, waiting]);
    if (r1.status !== 'uploaded' || r3.status !== 'uploaded') throw new Error('not uploaded');
    expect(e.stats().wbLock).toEqual({ skip: 1, wait: 1 });
    // Serialised: the waiting upload's request started after the first one was freed.
    const t = e.trace();
    const freed = t.find((x) => x.rreq === r1.request.debugId && x.what === 'FREE')!;
    const started = t.find((x) => x.rreq === r3.request.debugId && x.what === 'NEW')!;
    expect(started.seq).toBeGreaterThan(freed.seq);
    const log = await puts('/locked.bin');
    expect(log).toHaveLength(2);
    expect(sha(await readFile(apache.pathOf('locked.bin')))).toBe(sha(c));
    expect(e.stats().writes.WP).toBe(3);
    expectClean(e);
  });
});

describe('upload subrequests (§7.5)', () => {
  it('44: upload subrequests are at most wsize, contiguous and ascending, and cover the file once', async () => {
    const size = 5 * MiB + 4321;
    const e = engine({ wsize: 1 * MiB });
    const out = await e.upload('/windows.bin', { localFile: await localFile('windows.src', randomBytes(size)), precondition: { kind: 'absent' } });
    if (out.status !== 'uploaded') throw new Error('not uploaded');
    const adds = uploadAdds(e, out.request.debugId);
    expect(adds).toHaveLength(Math.ceil(size / MiB));
    let at = 0;
    for (const a of adds) {
      expect(a.start).toBe(at);
      expect(a.len!).toBeLessThanOrEqual(MiB);
      at += a.len!;
    }
    expect(at).toBe(size);
    const s = e.stats();
    expect(s.upldOps).toEqual({ UL: adds.length, us: adds.length, uf: 0 });
    // One request, one PUT: the windows are parts of its body.
    expect(await puts('/windows.bin')).toHaveLength(1);
    const line = e.formatStats().split('\n').find((l) => l.startsWith('UpldOps'));
    expect(line).toBe(`UpldOps: UL=${adds.length} us=${adds.length} uf=0`);
  });
});

describe('the local file changes during the upload (F12, B7)', () => {
  /** Runs `change` once the first window of the upload has been taken by the transport. */
  function onFirstWindow(e: NetfsEngine, change: () => void): () => void {
    let done = false;
    return e.ctx.trace.onEvent((t) => {
      if (!done && t.kind === 'sreq' && t.source === 'UPLD' && t.what === 'TERM') {
        done = true;
        change();
      }
    });
  }

  it('F12: a file modified mid-upload fails the upload and commits nothing on the server', async () => {
    const e = engine({ wsize: 512 * 1024, capacity: 4 * MiB });
    const src = await localFile('grows.src', randomBytes(6 * MiB));
    const stop = onFirstWindow(e, () => appendFileSync(src, 'more'));
    const err = await e.upload('/grows.bin', { localFile: src, precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    stop();
    expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
    expect(String((err as Error).message)).toMatch(/changed during the upload/);
    expect(existsSync(apache.pathOf('grows.bin'))).toBe(false);
    // Not retried by the engine: the sync layer re-plans with the new content.
    expect(e.stats().retries.wq).toBe(0);
    expectClean(e);
  });

  it('B7: a file that shrinks mid-upload fails cleanly (no hang), nothing committed', async () => {
    const e = engine({ wsize: 512 * 1024, capacity: 4 * MiB });
    const src = await localFile('shrinks.src', randomBytes(6 * MiB));
    const stop = onFirstWindow(e, () => truncateSync(src, 1 * MiB));
    const err = await e.upload('/shrinks.bin', { localFile: src, precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    stop();
    expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
    expect(String((err as Error).message)).toMatch(/ended at|size went|changed/);
    expect(existsSync(apache.pathOf('shrinks.bin'))).toBe(false);
    expectClean(e);
  });

  it('F12: a file whose size is not the one the caller saw fails before anything is sent', async () => {
    const e = engine();
    const err = await e.upload('/wrong-size.bin', { localFile: await localFile('wrong-size.src', randomBytes(100)), size: 99, precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('TRANSIENT');
    expect(await puts('/wrong-size.bin')).toEqual([]);
    expectClean(e);
  });

  it('B7: a missing local file is NOT_FOUND, a folder INVALID_ARGUMENT', async () => {
    const e = engine();
    const missing = await e.upload('/x.bin', { localFile: join(dir, 'nope'), precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    expect(isNetfsError(missing) && missing.code).toBe('NOT_FOUND');
    const folder = await e.upload('/x.bin', { localFile: dir, precondition: { kind: 'absent' } }).catch((x: unknown) => x);
    expect(isNetfsError(folder) && folder.code).toBe('INVALID_ARGUMENT');
    expectClean(e);
  });
});

describe('cancellation', () => {
  it('C7: an upload cancelled mid-PUT ends CANCELLED, commits nothing, and returns every block', async () => {
    const e = engine({ wsize: 512 * 1024, capacity: 4 * MiB });
    const before = randomBytes(5000);
    await apache.writeFile('/cancelled.bin', before);
    const ac = new AbortController();
    let n = 0;
    const stop = e.ctx.trace.onEvent((t) => {
      if (t.kind === 'sreq' && t.source === 'UPLD' && t.what === 'TERM' && ++n === 2) ac.abort();
    });
    const err = await e
      .upload('/cancelled.bin', { localFile: await localFile('cancelled.src', randomBytes(16 * MiB)), precondition: { kind: 'none' }, signal: ac.signal })
      .catch((x: unknown) => x);
    stop();
    expect(isNetfsError(err) && err.code).toBe('CANCELLED');
    expect(await readFile(apache.pathOf('cancelled.bin'))).toEqual(before);
    expect(e.stats().retries.wq).toBe(0);
    expectClean(e);
  });

  it('C7, 39: an upload cancelled while waiting for the writeback lock gives up the wait', async () => {
    const e = engine();
    const src1 = await localFile('wc1.src', randomBytes(4 * MiB));
    const src2 = await localFile('wc2.src', randomBytes(10));
    let firstDone = false;
    const first = e.upload('/wait-cancel.bin', { localFile: src1, precondition: { kind: 'none' } }).finally(() => (firstDone = true));
    const ac = new AbortController();
    const second = e.upload('/wait-cancel.bin', { localFile: src2, precondition: { kind: 'none' }, signal: ac.signal });
    ac.abort();
    const err = await second.catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('CANCELLED');
    // It gave up at once, not when the lock came free.
    expect(firstDone).toBe(false);
    expect((await first).status).toBe('uploaded');
    expect(e.stats().writes.WP).toBe(1);
    expectClean(e);
  });
});

describe('unbuffered writes need a backend that writes ranges', () => {
  it('52: WebDAV has no ranged PUT: UNSUPPORTED, nothing sent', async () => {
    const e = engine();
    const before = apache.accessLog().length;
    const err = await e.unbufferedWrite('/pre.bin', { offset: 0, data: new Uint8Array(10) }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('UNSUPPORTED');
    expect(apache.accessLog().length).toBe(before);
    expect(e.stats().writes.DW).toBe(0);
  });
});

// Unbuffered writes whose source is a region of a local file (direct-source.ts): the extraction
// (the analogue of pinning the caller's pages) and the short write it may lead to - digest §4.5
// scenario C, §2.10 ("return the error only if nothing was pinned, or on out-of-memory;
// otherwise issue a short DIO for what was pinned"), behaviour 56; with 52 and 53 still holding
// for what was extracted. Every write goes to the real local-folder backend.
//
// The unreadable source is REAL: strace injects EIO into the pread()s of that one file
// (`-P <file> -e inject=pread64,…:error=EIO[:when=2+]`), so the error comes back from the kernel
// through libuv and node:fs exactly as a failing disk's would; no fs function is replaced.
// strace counts `when=` per thread and node:fs spreads its calls over the 4 threads of libuv's
// pool, so attached to this (vitest) process "the 2nd pread" would not mean the 2nd piece of
// the extraction. Those tests therefore run the write in a child node (the engine's own
// TypeScript, via app/testing/ts-loader.mjs) that strace starts, with UV_THREADPOOL_SIZE=1: all
// its preads on one thread, the extraction reading fixed 64 KiB pieces, "the 2nd read fails"
// is "exactly the first 64 KiB are obtained". The child answers in JSON.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError, NetfsError } from '../api/errors.js';
import type { RemoteBackend, WriteRangeOptions } from '../remote/backend.js';
import { createLocalBackend, type LocalBackend } from '../remote/local/backend.js';
import { BufferPool } from './buffer-pool.js';
import { EXTRACT_PIECE } from './direct-source.js';
import { NetfsEngine } from './engine.js';
import type { ChildJob, ChildResult } from './testing-direct-write-child.js';
import type { TraceEvent } from './trace.js';

const KiB = 1024;
const BLOCK = 64 * KiB;
const WSIZE = 64 * KiB;
let dir: string;
let remoteRoot: string;
let local: LocalBackend;

/** strace can start (and trace) a child here: the binary is there and ptrace is allowed. */
const STRACE_OK = ((): boolean => {
  try {
    execFileSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

function engine(pool = new BufferPool({ blockSize: BLOCK, capacity: 1024 * KiB }), backend: RemoteBackend = local) {
  return new NetfsEngine({ backend, pool, limits: { wsize: WSIZE }, pacer: { baseMs: 2 } });
}

async function remoteFile(name: string, size: number): Promise<Buffer> {
  const bytes = randomBytes(size);
  await writeFile(join(remoteRoot, name), bytes);
  return bytes;
}

async function sourceFile(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

/** `base` with `data` written at `offset`. */
function spliced(base: Buffer, offset: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.max(base.length, offset + data.length));
  base.copy(out);
  out.set(data, offset);
  return out;
}

function rreqEvents(e: NetfsEngine, rreq: number): TraceEvent[] {
  return e.trace().filter((t) => t.kind !== 'sreq' && t.rreq === rreq);
}

function expectClean(e: NetfsEngine): void {
  expect(e.ctx.pool.inUse).toBe(0);
  expect(e.stats().objs).toMatchObject({ rr: 0, sr: 0 });
  expect(e.requests()).toEqual([]);
  expect(e.ctx.wbLocks.size).toBe(0);
}

const codeOf = (x: unknown): string | false => isNetfsError(x) && x.code;

/**
 * Runs `job` in a child node started by strace, which fails the pread()s of `job.source.file`
 * with EIO: from the `from`-th on (1 = every one). Returns the child's answer and strace's log.
 */
async function writeUnderStrace(job: ChildJob, from: number): Promise<{ result: ChildResult; log: string }> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const logFile = join(dir, `strace-${Date.now()}.log`);
  const calls = 'pread64,preadv,preadv2';
  const inject = `inject=${calls}:error=EIO${from > 1 ? `:when=${from}+` : ''}`;
  const args = ['-f', '-qq', '-o', logFile, '-P', job.source.file, '-e', `trace=${calls}`, '-e', inject];
  const child = spawn('strace', [...args, process.execPath, '--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'testing-direct-write-child.ts'), JSON.stringify(job)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the child exited with ${code}: ${err}`);
  return { result: JSON.parse(out.trim().split('\n').at(-1) ?? '') as ChildResult, log: await readFile(logFile, 'utf8') };
}

interface Staged {
  backend: RemoteBackend;
  calls: Array<{ offset: number; length: number }>;
}

/** The first `n` bytes of `source`. */
async function* firstBytes(source: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  let left = n;
  for await (const chunk of source) {
    const part = chunk.length <= left ? chunk : chunk.subarray(0, left);
    left -= part.length;
    yield part;
    if (left <= 0) return;
  }
}

/**
 * The real local backend, except that writeRange call number `on` really writes the first half
 * of its bytes and then reports a TRANSIENT failure (as in direct-write.test.ts: a server that
 * does ranged writes and fails transiently does not exist for this backend; the bytes on disk
 * are real, only the failure is staged).
 */
function staged(inner: LocalBackend, on: number): Staged {
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
      if (calls.length !== on) return inner.writeRange(path, options);
      const half = Math.floor(options.length / 2);
      const r = await inner.writeRange(path, { ...options, length: half, source: firstBytes(options.source, half) });
      throw new NetfsError('TRANSIENT', `writeRange ${path}: connection reset (staged by the test)`, { transferred: r.written });
    },
  };
  return { backend, calls };
}

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'netfs-direct-source-')));
  remoteRoot = join(dir, 'remote');
  await mkdir(remoteRoot);
  local = createLocalBackend({ url: `file://${remoteRoot}` });
});
afterAll(async () => {
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('unbuffered writes from a file region: the extraction (§4.5 C, behaviour 56)', () => {
  it('the extraction reads in 64 KiB pieces (what makes "the 2nd read fails" mean "64 KiB obtained")', () => {
    expect(EXTRACT_PIECE).toBe(64 * KiB);
  });

  it.skipIf(!STRACE_OK)('56 / C: the source\'s second half is unreadable (EIO from the 2nd pread): the first half is written and the write is short by exactly that much', async () => {
    const base = await remoteFile('half.bin', 300_000);
    const bytes = randomBytes(2 * EXTRACT_PIECE);
    const file = await sourceFile('half.src', bytes);
    // One pool block of 128 KiB holds the whole source: the extraction fills it piece by piece,
    // and the piece that failed leaves it half filled.
    const job: ChildJob = { remoteRoot, path: '/half.bin', offset: 1000, source: { file, length: bytes.length }, blockSize: 2 * EXTRACT_PIECE, capacity: 1024 * KiB, wsize: WSIZE };
    const { result, log } = await writeUnderStrace(job, 2);
    // The kernel saw exactly two preads of the source: the first served, the second failed.
    const preads = log.split('\n').filter((l) => l.includes('pread64('));
    expect(preads).toHaveLength(2);
    expect(preads[0]).toMatch(/, 65536, 0\)\s+= 65536$/);
    expect(preads[1]).toMatch(/, 65536, 65536\)\s+= -1 EIO .*\(INJECTED\)$/);
    if (!result.ok) throw new Error(`the write failed: ${result.code} ${result.message}`);
    expect(result.written).toBe(EXTRACT_PIECE);
    expect(result.short).toMatchObject({ requested: bytes.length, obtained: EXTRACT_PIECE, eof: false, code: 'IO' });
    expect(result.short?.message).toMatch(/EIO/);
    expect(result.inUse).toBe(0);
    expect(result.ul).toBe(1);
    expect(result.traced).toEqual(['NEW', 'EXTRACT', 'EXTRACT-SHORT IO', 'DONE', 'FREE']);
    // Exactly the first half, at the right offset; nothing else of the remote file changed.
    expect((await readFile(join(remoteRoot, 'half.bin'))).equals(spliced(base, 1000, bytes.subarray(0, EXTRACT_PIECE)))).toBe(true);
  });

  it.skipIf(!STRACE_OK)('56 / C: a completely unreadable source (EIO from the 1st pread) fails the write with IO; nothing is written, every block is back', async () => {
    const base = await remoteFile('none.bin', 200_000);
    const bytes = randomBytes(2 * EXTRACT_PIECE);
    const file = await sourceFile('none.src', bytes);
    const job: ChildJob = { remoteRoot, path: '/none.bin', offset: 0, source: { file, length: bytes.length }, blockSize: BLOCK, capacity: 1024 * KiB, wsize: WSIZE };
    const { result, log } = await writeUnderStrace(job, 1);
    expect(log.split('\n').filter((l) => l.includes('pread64('))).toEqual([expect.stringMatching(/, 65536, 0\)\s+= -1 EIO .*\(INJECTED\)$/)]);
    if (result.ok) throw new Error('the write succeeded');
    expect(result.code).toBe('IO');
    expect(result.message).toMatch(/none\.src.*EIO/);
    expect(result.inUse).toBe(0);
    expect(result.ul).toBe(0);
    expect(result.traced).toEqual(['NEW', 'EXTRACT IO', 'FREE IO']);
    expect((await readFile(join(remoteRoot, 'none.bin'))).equals(base)).toBe(true);
  });

  it('56 / C: a pool too small for the region fails the write (out of memory, TOO_LARGE) before anything is read or sent', async () => {
    const base = await remoteFile('oom.bin', 100_000);
    const file = await sourceFile('oom.src', randomBytes(4 * BLOCK));
    const pool = new BufferPool({ blockSize: BLOCK, capacity: 2 * BLOCK });
    const e = engine(pool);
    const err = await e.unbufferedWrite('/oom.bin', { offset: 0, data: { file, length: 4 * BLOCK } }).catch((x: unknown) => x);
    expect(codeOf(err)).toBe('TOO_LARGE');
    expect((err as Error).message).toMatch(/out of memory/);
    expect(pool.highWater).toBe(0);
    expect(e.stats().upldOps.UL).toBe(0);
    expect((await readFile(join(remoteRoot, 'oom.bin'))).equals(base)).toBe(true);
    expectClean(e);
  });

  it('56 / C: memory that cannot be had in time fails the write (TRANSIENT) and gives back the blocks it had taken', async () => {
    const base = await remoteFile('busy.bin', 300_000);
    const file = await sourceFile('busy.src', randomBytes(3 * BLOCK));
    const pool = new BufferPool({ blockSize: BLOCK, capacity: 8 * BLOCK });
    // Another user of the pool holds 6 of its 8 blocks: 2 are free, the write needs 3.
    const held = Array.from({ length: 6 }, () => pool.alloc()!);
    const e = engine(pool);
    const err = await e.unbufferedWrite('/busy.bin', { offset: 0, data: { file, length: 3 * BLOCK }, memoryWaitMs: 100 }).catch((x: unknown) => x);
    expect(codeOf(err)).toBe('TRANSIENT');
    expect((err as Error).message).toMatch(/out of memory.* 2 of the 3 blocks/);
    expect(pool.highWater).toBe(8); // it did take the 2 free ones ...
    expect(pool.inUse).toBe(6); // ... and gave them back
    expect(pool.waiting).toBe(0);
    for (const b of held) pool.free(b);
    expect(e.stats().upldOps.UL).toBe(0);
    expect(rreqEvents(e, (e.trace()[0] as TraceEvent).rreq).map((t) => `${t.what}${t.error === undefined ? '' : ` ${t.error}`}`)).toEqual(['NEW', 'EXTRACT TRANSIENT', 'FREE TRANSIENT']);
    expect((await readFile(join(remoteRoot, 'busy.bin'))).equals(base)).toBe(true);
    expectClean(e);
  });

  it('memory that comes back while the extraction waits for it lets the write go ahead whole', async () => {
    const base = await remoteFile('wait.bin', 300_000);
    const bytes = randomBytes(3 * BLOCK);
    const file = await sourceFile('wait.src', bytes);
    const pool = new BufferPool({ blockSize: BLOCK, capacity: 8 * BLOCK });
    const held = Array.from({ length: 6 }, () => pool.alloc()!);
    const e = engine(pool);
    const timer = setTimeout(() => {
      for (const b of held) pool.free(b);
    }, 50);
    const out = await e.unbufferedWrite('/wait.bin', { offset: 10, data: { file, length: bytes.length } });
    clearTimeout(timer);
    expect(out).toMatchObject({ written: bytes.length, short: null });
    expect(pool.waits).toBe(1);
    expect((await readFile(join(remoteRoot, 'wait.bin'))).equals(spliced(base, 10, bytes))).toBe(true);
    expectClean(e);
  });

  it('a write cancelled while the extraction waits for memory ends CANCELLED with every block back', async () => {
    await remoteFile('cancel.bin', 1000);
    const file = await sourceFile('cancel.src', randomBytes(3 * BLOCK));
    const pool = new BufferPool({ blockSize: BLOCK, capacity: 8 * BLOCK });
    const held = Array.from({ length: 6 }, () => pool.alloc()!);
    const e = engine(pool);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const err = await e.unbufferedWrite('/cancel.bin', { offset: 0, data: { file, length: 3 * BLOCK }, signal: ac.signal }).catch((x: unknown) => x);
    expect(codeOf(err)).toBe('CANCELLED');
    expect(pool.inUse).toBe(6);
    for (const b of held) pool.free(b);
    expectClean(e);
  });

  it('56 / C: a source shorter than the length asked for is a short write of what exists (the source ended early)', async () => {
    const base = await remoteFile('eof.bin', 400_000);
    const bytes = randomBytes(150_000);
    const file = await sourceFile('eof.src', bytes);
    const e = engine();
    const out = await e.unbufferedWrite('/eof.bin', { offset: 2000, data: { file, fileOffset: 30_000, length: 200_000 } });
    expect(out.written).toBe(120_000);
    expect(out.short).toMatchObject({ requested: 200_000, obtained: 120_000, eof: true });
    expect(out.short?.error.code).toBe('INVALID_ARGUMENT');
    expect(out.short?.error.message).toMatch(/ended early, at byte 150000/);
    expect(out.request).toMatchObject({ origin: 'UW', start: 2000, len: 120_000, transferred: 120_000, error: null });
    expect((await readFile(join(remoteRoot, 'eof.bin'))).equals(spliced(base, 2000, bytes.subarray(30_000)))).toBe(true);
    const whats = rreqEvents(e, out.request.debugId).map((t) => t.what);
    expect(whats).toEqual(['NEW', 'EXTRACT', 'EXTRACT-SHORT', 'DONE', 'FREE']);
    expectClean(e);
  });

  it('56: a region that starts at or past the end of the source obtains nothing: the write fails, nothing is sent', async () => {
    const base = await remoteFile('past.bin', 1000);
    const file = await sourceFile('past.src', randomBytes(5000));
    const e = engine();
    const err = await e.unbufferedWrite('/past.bin', { offset: 0, data: { file, fileOffset: 5000, length: 10 } }).catch((x: unknown) => x);
    expect(codeOf(err)).toBe('INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(/ended early/);
    expect(e.stats().upldOps.UL).toBe(0);
    expect((await readFile(join(remoteRoot, 'past.bin'))).equals(base)).toBe(true);
    expectClean(e);
  });

  it('a source that cannot be opened or read maps its errno: missing is NOT_FOUND, a folder INVALID_ARGUMENT', async () => {
    await remoteFile('errno.bin', 1000);
    const e = engine();
    const missing = await e.unbufferedWrite('/errno.bin', { offset: 0, data: { file: join(dir, 'no-such.src'), length: 10 } }).catch((x: unknown) => x);
    expect(codeOf(missing)).toBe('NOT_FOUND');
    const folder = await e.unbufferedWrite('/errno.bin', { offset: 0, data: { file: dir, length: 10 } }).catch((x: unknown) => x);
    expect(codeOf(folder)).toBe('INVALID_ARGUMENT');
    expect((folder as Error).message).toMatch(/EISDIR/);
    const bad = await e.unbufferedWrite('/errno.bin', { offset: 0, data: { file: join(dir, 'x'), length: -1 } }).catch((x: unknown) => x);
    expect(codeOf(bad)).toBe('INVALID_ARGUMENT');
    expect(e.stats().upldOps.UL).toBe(0);
    expectClean(e);
  });

  it('10: a zero-length region sends nothing and does not even open the source', async () => {
    await remoteFile('zero.bin', 10);
    const e = engine();
    const out = await e.unbufferedWrite('/zero.bin', { offset: 0, data: { file: join(dir, 'never-opened.src'), length: 0 } });
    expect(out).toMatchObject({ written: 0, short: null });
    expect(e.stats().upldOps.UL).toBe(0);
    expectClean(e);
  });

  it('52: a whole region goes out in strict sequence from pool blocks, which are all back afterwards', async () => {
    const base = await remoteFile('seq.bin', 400_000);
    const bytes = randomBytes(320_000);
    const file = await sourceFile('seq.src', bytes);
    const e = engine();
    const out = await e.unbufferedWrite('/seq.bin', { offset: 1000, data: { file, fileOffset: 7000, length: 250_000 } });
    expect(out).toMatchObject({ written: 250_000, short: null });
    expect((await readFile(join(remoteRoot, 'seq.bin'))).equals(spliced(base, 1000, bytes.subarray(7000, 257_000)))).toBe(true);
    const n = Math.ceil(250_000 / WSIZE);
    const sreqs = e.trace().filter((t) => t.kind === 'sreq' && t.rreq === out.request.debugId);
    expect(sreqs.map((t) => `${t.sreq}:${t.what}`)).toEqual(Array.from({ length: n }, (_, k) => [`${k}:ADD`, `${k}:SUBMT`, `${k}:TERM`, `${k}:CONSM`]).flat());
    expect(e.ctx.pool.highWater).toBe(Math.ceil(250_000 / BLOCK));
    expectClean(e);
  });

  it('53: after a short extraction, a ranged write that needs a retry is re-issued for exactly its remaining bytes', async () => {
    const base = await remoteFile('retry.bin', 300_000);
    const bytes = randomBytes(150_000);
    const file = await sourceFile('retry.src', bytes);
    const { backend, calls } = staged(local, 2);
    const e = engine(undefined, backend);
    const out = await e.unbufferedWrite('/retry.bin', { offset: 500, data: { file, length: 200_000 } });
    expect(out.written).toBe(150_000);
    expect(out.short).toMatchObject({ obtained: 150_000, eof: true });
    expect((await readFile(join(remoteRoot, 'retry.bin'))).equals(spliced(base, 500, bytes))).toBe(true);
    const half = WSIZE / 2;
    expect(calls).toEqual([
      { offset: 500, length: WSIZE },
      { offset: 500 + WSIZE, length: WSIZE }, // half of it lands, then TRANSIENT
      { offset: 500 + WSIZE + half, length: WSIZE - half }, // exactly the rest, same subrequest
      { offset: 500 + 2 * WSIZE, length: 150_000 - 2 * WSIZE }, // the short tail: only what was obtained
    ]);
    expect(e.stats().retries).toMatchObject({ wq: 1, ws: 1 });
    expectClean(e);
  });
});

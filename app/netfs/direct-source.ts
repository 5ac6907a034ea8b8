/**
 * Extraction of an unbuffered write's source from a local file (the user-space analogue of
 * netfs_extract_user_iter() pinning the caller's pages; digest §2.10, §4.5 scenario C,
 * behaviour 56).
 *
 *   extractFileRegion(ctx, chain, { file, fileOffset, length })
 *     length 0 ...................................... nothing to do, the file is not opened
 *     open(file, O_RDONLY) fails ................... that error (nothing obtained)
 *     memory: ceil(length / blockSize) pool blocks, taken under the allocation lock
 *       more than the pool lends one request ....... TOO_LARGE  } nothing kept: every block
 *       not free within memoryWaitMs ............... TRANSIENT  } taken so far goes back
 *       cancelled .................................. CANCELLED  } ("out of memory" fails,
 *                                                                 whatever was obtained)
 *     read: each block filled by pread()s of EXTRACT_PIECE (64 KiB), in file order
 *
 *       block 0           block 1           block 2
 *       [piece|piece|..]  [piece|piece|..]  [piece| EIO ]       <- a pread fails, or returns 0
 *       \________________ obtained ______________/              (the source ended early)
 *            loaded into the chain (disposal 'pool')   the unused rest freed at once
 *
 *     all of it .............................. { obtained: length, short: null }
 *     some of it, then an error / the end .... { obtained, short: { error, eof } }: a short write
 *     none of it ............................. the error (EIO -> IO, ENOENT -> NOT_FOUND,
 *                                              EACCES -> FORBIDDEN, the end -> INVALID_ARGUMENT)
 *
 * Blocks loaded into the chain belong to it from then on (chain.clear() or the consumers give
 * them back); everything else is freed here before this returns or throws.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { NetfsError, type ErrorCode } from '../api/errors.js';
import type { Bvecq } from './bvecq.js';
import type { EngineContext } from './context.js';

/** A region of a local file as the source of an unbuffered write. */
export interface FileRegion {
  /** The local file (opened read-only for the extraction, closed before the writes begin). */
  file: string;
  /** Where the region starts in the file; default 0. */
  fileOffset?: number;
  /** How many bytes to write. */
  length: number;
}

/** Bytes per pread() of the extraction: a failure of read k leaves exactly k-1 pieces obtained. */
export const EXTRACT_PIECE = 64 * 1024;

/** How long an extraction waits for pool blocks by default before failing (out of memory). */
export const DEFAULT_MEMORY_WAIT_MS = 10_000;

/** Why an extraction obtained less than asked for: the write is short (digest §4.5 C). */
export interface ShortExtraction {
  /** The region's length. */
  requested: number;
  /** Bytes obtained (and so written): the prefix of the region before the failure. */
  obtained: number;
  /** The source ended early (a read returned 0) rather than failing. */
  eof: boolean;
  /** What stopped the extraction: the read error, or INVALID_ARGUMENT "ended early". */
  error: NetfsError;
}

export interface Extraction {
  obtained: number;
  short: ShortExtraction | null;
}

export interface ExtractOptions {
  signal: AbortSignal;
  /** Longest wait for pool blocks (default DEFAULT_MEMORY_WAIT_MS). */
  memoryWaitMs?: number;
  /** For messages: "unbuffered write of /a.bin". */
  what: string;
}

/** True when `value` looks like a FileRegion (not a Uint8Array). */
export function isFileRegion(value: unknown): value is FileRegion {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && typeof (value as { file?: unknown }).file === 'string';
}

/** Throws INVALID_ARGUMENT for a region that cannot be read. */
export function checkFileRegion(region: FileRegion, what: string): void {
  const bad = (reason: string): NetfsError => new NetfsError('INVALID_ARGUMENT', `${what}: ${reason}`);
  if (region.file.length === 0) throw bad('the source file name is empty');
  const fileOffset = region.fileOffset ?? 0;
  if (!Number.isSafeInteger(fileOffset) || fileOffset < 0) throw bad(`bad source offset ${String(region.fileOffset)}`);
  if (!Number.isSafeInteger(region.length) || region.length < 0) throw bad(`bad source length ${String(region.length)}`);
  if (!Number.isSafeInteger(fileOffset + region.length)) throw bad('the source region ends out of range');
}

/**
 * Reads `region` into pool blocks loaded into `chain` at its end (the chain must have
 * `ctx.pool` as its pool). Resolves with how much was obtained; throws when nothing was, when
 * memory could not be had, or when cancelled (see the header).
 */
export async function extractFileRegion(
  ctx: Pick<EngineContext, 'pool' | 'allocLock'>,
  chain: Bvecq,
  region: FileRegion,
  options: ExtractOptions,
): Promise<Extraction> {
  const { length, file } = region;
  const fileOffset = region.fileOffset ?? 0;
  const { signal, what } = options;
  if (length === 0) return { obtained: 0, short: null };
  throwIfCancelled(signal, what);

  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw sourceError(e, what, file, 'open');
  }
  const blocks: Uint8Array[] = [];
  let loaded = 0;
  try {
    blocks.push(...(await takeBlocks(ctx, Math.ceil(length / ctx.pool.blockSize), options)));
    let obtained = 0;
    let stop: { error: NetfsError; eof: boolean } | null = null;
    for (const block of blocks) {
      const want = Math.min(block.length, length - obtained);
      let got = 0;
      while (got < want && stop === null) {
        throwIfCancelled(signal, what);
        const at = fileOffset + obtained + got;
        try {
          const { bytesRead } = await fh.read(block, got, Math.min(EXTRACT_PIECE, want - got), at);
          if (bytesRead === 0) {
            stop = { eof: true, error: new NetfsError('INVALID_ARGUMENT', `${what}: the source ${JSON.stringify(file)} ended early, at byte ${at} of [${fileOffset}, ${fileOffset + length})`) };
          }
          got += bytesRead;
        } catch (e) {
          stop = { eof: false, error: sourceError(e, what, file, `pread at ${at}`) };
        }
      }
      if (got > 0) {
        chain.load(block, { len: got });
        loaded++;
      }
      obtained += got;
      if (stop !== null) break;
    }
    if (stop === null) return { obtained, short: null };
    if (obtained === 0) throw stop.error;
    return { obtained, short: { requested: length, obtained, ...stop } };
  } finally {
    // Loaded blocks are the chain's; the rest (never filled, or after the failure) go back now.
    for (const block of blocks.slice(loaded)) ctx.pool.free(block);
    await fh.close().catch(() => undefined);
  }
}

/**
 * `n` blocks of the pool, or none: taken under the allocation lock (so two requests never
 * each hold part of what they need), waiting at most memoryWaitMs in all.
 */
async function takeBlocks(ctx: Pick<EngineContext, 'pool' | 'allocLock'>, n: number, options: ExtractOptions): Promise<Uint8Array[]> {
  const { pool } = ctx;
  const { signal, what } = options;
  // What one request may hold, like rsize and wsize: half the pool (at least one block).
  const lendable = Math.max(1, Math.floor(pool.blocks / 2));
  if (n > lendable) {
    throw new NetfsError(
      'TOO_LARGE',
      `${what}: out of memory: the source needs ${n} buffer blocks of ${pool.blockSize} bytes; the pool lends at most ${lendable} to one request`,
    );
  }
  const waitMs = options.memoryWaitMs ?? DEFAULT_MEMORY_WAIT_MS;
  const timeout = AbortSignal.timeout(Math.max(0, waitMs));
  const both = AbortSignal.any([signal, timeout]);
  const taken: Uint8Array[] = [];
  try {
    await ctx.allocLock.run(async () => {
      while (taken.length < n) taken.push(pool.alloc() ?? (await pool.allocAsync(both)));
    }, both);
    return taken;
  } catch (e) {
    for (const block of taken) pool.free(block);
    throwIfCancelled(signal, what);
    if (timeout.aborted) {
      throw new NetfsError(
        'TRANSIENT',
        `${what}: out of memory: the buffer pool had ${taken.length} of the ${n} blocks the source needs free within ${waitMs} ms`,
        { cause: e },
      );
    }
    throw e;
  }
}

function throwIfCancelled(signal: AbortSignal, what: string): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof NetfsError ? reason : new NetfsError('CANCELLED', `${what}: cancelled`, { cause: reason });
}

const ERRNO_CODES: Readonly<Record<string, ErrorCode>> = {
  ENOENT: 'NOT_FOUND',
  ENOTDIR: 'NOT_FOUND',
  EACCES: 'FORBIDDEN',
  EPERM: 'FORBIDDEN',
  EISDIR: 'INVALID_ARGUMENT',
  ESPIPE: 'INVALID_ARGUMENT',
  EINVAL: 'INVALID_ARGUMENT',
  EMFILE: 'TRANSIENT',
  ENFILE: 'TRANSIENT',
  EAGAIN: 'TRANSIENT',
  EINTR: 'TRANSIENT',
  EIO: 'IO',
};

/** An error of the source file as a NetfsError: EIO -> IO, ENOENT -> NOT_FOUND, EACCES -> FORBIDDEN, ... */
export function sourceError(e: unknown, what: string, file: string, doing: string): NetfsError {
  if (e instanceof NetfsError) return e;
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  const code = (errno === undefined ? undefined : ERRNO_CODES[errno]) ?? 'IO';
  const detail = e instanceof Error ? e.message : String(e);
  return new NetfsError(code, `${what}: the source ${JSON.stringify(file)}: ${doing} failed: ${detail}`, { cause: e });
}

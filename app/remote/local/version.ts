/**
 * Versions of local entries: strong ETags from (inode, size, mtime in ns), and the check of
 * a caller's `Expected` against what is on disk now.
 *
 *   lstat/fstat {bigint}  ->  "<ino hex>-<size hex>-<mtimeNs hex>"   e.g. "1a2b-400-17d3c0f5e2a9b000"
 *
 *   Expected { etag: '"…"' (strong) }           -> equal ETag or PRECONDITION_FAILED
 *   Expected { etag: null | 'W/"…"', size, mtimeMs } -> the given stand-ins must agree
 *
 * Every write lands in a new inode (temp file + rename), so two versions of one path differ
 * in `ino` even within one mtime tick. An in-place edit by another program that keeps the size
 * and restores the mtime is not seen (as with rsync's and Syncthing's quick check). Folders get
 * ETags from the same fields; their mtime changes only when a direct child is added, removed or
 * renamed, so a folder ETag says nothing about deeper changes (folderEtagsPropagate: false).
 *
 * mtimeMs is reported in whole milliseconds (rounded), the precision `setMtime` writes with.
 */
import type { BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Expected } from '../backend.js';

const STRONG_ETAG = /^"[\x21\x23-\x7e\x80-\xff]*"$/;

export function etagOf(stats: BigIntStats): string {
  return `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
}

/** Modification time in whole ms, rounded to the nearest. */
export function mtimeMsOf(stats: BigIntStats): number {
  return Number((stats.mtimeNs + 500_000n) / 1_000_000n);
}

/** True for a well-formed strong entity tag (quoted, no `W/`). */
export function isStrongEtag(etag: string | null | undefined): etag is string {
  return typeof etag === 'string' && STRONG_ETAG.test(etag);
}

/**
 * Why `stats` is not the version `expected` names, or null when it is. A strong ETag decides
 * alone; otherwise size and mtimeMs are compared where given (mtime within 1 ms, the precision
 * of callers that store whole milliseconds).
 */
export function versionMismatch(expected: Expected, stats: BigIntStats): string | null {
  const current = etagOf(stats);
  if (isStrongEtag(expected.etag)) {
    return expected.etag === current ? null : `ETag is ${current}, expected ${expected.etag}`;
  }
  if (expected.size !== undefined && expected.size !== null && !stats.isDirectory()) {
    const size = Number(stats.size);
    if (size !== expected.size) return `size is ${size}, expected ${expected.size}`;
  }
  if (expected.mtimeMs !== undefined && expected.mtimeMs !== null) {
    const mtimeMs = mtimeMsOf(stats);
    if (Math.abs(mtimeMs - expected.mtimeMs) >= 1) {
      return `modified at ${new Date(mtimeMs).toISOString()}, expected ${new Date(expected.mtimeMs).toISOString()}`;
    }
  }
  return null;
}

/**
 * Sets a file's mtime (and atime) to `mtimeMs` exactly: libuv truncates the seconds it is given
 * to whole microseconds, so half a microsecond is added to land on the millisecond, not 1 µs
 * below it.
 */
export async function setMtime(handle: FileHandle, mtimeMs: number): Promise<void> {
  const seconds = (mtimeMs + 0.0005) / 1000;
  await handle.utimes(seconds, seconds);
}

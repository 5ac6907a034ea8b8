/**
 * Whole-file writes of the local backend: a temp file in the same folder, committed by rename
 * (or link, for create-only) once every byte is on disk.
 *
 *   checks: path, parent folder exists (CONFLICT), not onto a folder (CONFLICT),
 *           precondition already failing? (fail before receiving a byte)
 *      |
 *      v
 *   open  <folder>/.netfs-partial-<random>  (O_EXCL; rwx bits of the file it replaces, else 0666; umask applies)
 *      |  pull the source: each chunk written positionally (pwrite) before the next is pulled,
 *      |  onProgress(total); more than `length`: TOO_LARGE; fewer: IO "source ended early"
 *      v
 *   utimes (when mtimeMs is given) -> fsync -> fstat (the new ETag) -> close
 *      |
 *      v   under the per-path lock (write-commit.ts):
 *   precondition checked against the final name -> rename / link into place -> fsync the folder
 *
 * Any failure or abort before the commit removes the temp file and leaves the target as it
 * was. Readers never see a partial file under the final name.
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { WriteOptions, WriteResult } from '../backend.js';
import type { LocalContext } from './context.js';
import { checkAncestors, lstatTarget, resolveTarget } from './disk-path.js';
import { fsError, pathError, throwIfAborted } from './errors.js';
import { PARTIAL_PREFIX, tempName } from './names.js';
import { drainSource } from './source.js';
import { checkWriteTarget } from './preconditions.js';
import { commitTemp } from './write-commit.js';
import { etagOf, mtimeMsOf, setMtime } from './version.js';

/** The most one write syscall is given. */
export const MAX_WRITE_CHUNK = 1024 * 1024;

export async function writeFile(ctx: LocalContext, remotePath: string, options: WriteOptions): Promise<WriteResult> {
  const action = 'write';
  const target = resolveTarget(ctx.root, remotePath);
  checkWriteOptions(options, remotePath);
  const { length, source, precondition, mtimeMs, signal, onProgress } = options;
  if (target.segments.length === 0) throw pathError('CONFLICT', action, remotePath, 'is the root folder; a file cannot replace it');
  throwIfAborted(signal, action, remotePath);
  await checkAncestors(ctx.root, target, action, 'CONFLICT');
  const existing = await lstatTarget(ctx.root, target, action);
  checkWriteTarget(existing, precondition, action, remotePath);
  // Permission bits only: setuid/setgid/sticky are never carried over to new content.
  const mode = existing?.isFile() === true ? Number(existing.mode & 0o777n) : 0o666;

  const tempPath = path.join(target.parentDisk, tempName(PARTIAL_PREFIX));
  let handle: FileHandle | undefined;
  try {
    try {
      handle = await fs.open(tempPath, 'wx', mode);
    } catch (error) {
      const mapped = fsError(error, action, remotePath);
      if (mapped.code === 'NOT_FOUND') throw pathError('CONFLICT', action, remotePath, 'parent folder missing');
      throw mapped;
    }
    const file = handle;
    await drainSource(source, {
      length,
      signal,
      action,
      remotePath,
      onProgress,
      onChunk: (chunk, position) => writeAll(file, chunk, position),
    });
    if (mtimeMs !== undefined) await setMtime(file, mtimeMs);
    await file.sync();
    const stats = await file.stat({ bigint: true });
    await file.close();
    handle = undefined;
    await ctx.locks.withLocks([remotePath], async () => {
      throwIfAborted(signal, action, remotePath);
      await commitTemp(ctx, target, tempPath, precondition, action);
    });
    return { etag: etagOf(stats), etagStrength: 'strong', size: Number(stats.size), mtimeMs: mtimeMsOf(stats) };
  } catch (error) {
    throw fsError(error, action, remotePath);
  } finally {
    await handle?.close().catch(() => undefined);
    // After a rename the name is free again; after a link or a failure this drops the temp.
    await fs.rm(tempPath, { force: true }).catch(() => undefined);
  }
}

/** pwrite until the whole chunk is on disk, at most MAX_WRITE_CHUNK per call. */
async function writeAll(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const want = Math.min(MAX_WRITE_CHUNK, chunk.byteLength - done);
    const { bytesWritten } = await handle.write(chunk, done, want, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('the disk accepted no bytes'), { code: 'EIO' });
    done += bytesWritten;
  }
}

function checkWriteOptions(options: WriteOptions, remotePath: string): void {
  const bad = (reason: string): Error => pathError('INVALID_ARGUMENT', 'write', remotePath, reason);
  if (!Number.isSafeInteger(options.length) || options.length < 0) throw bad(`length must be a non-negative integer, got ${options.length}`);
  const kind = (options.precondition as { kind?: unknown } | undefined)?.kind;
  if (kind !== 'none' && kind !== 'absent' && kind !== 'match') throw bad('precondition must be {kind: "none" | "absent" | "match"}');
  if (options.mtimeMs !== undefined && (!Number.isFinite(options.mtimeMs) || options.mtimeMs < 0)) {
    throw bad(`mtimeMs must be a non-negative number of ms since the epoch, got ${options.mtimeMs}`);
  }
  if (options.source === null || typeof options.source !== 'object' || !(Symbol.asyncIterator in options.source)) {
    throw bad('source must be an async iterable of Uint8Array');
  }
}

/**
 * Ranged reads of the local backend, straight into the caller's buffers.
 *
 *   lstat (a regular file?) -> open(O_RDONLY|O_NOFOLLOW|O_NONBLOCK) -> fstat: version check (expect)
 *       |
 *       v   one FileHandle, positional reads of at most 1 MiB each, no intermediate copy:
 *   buffers[0] [#######]  buffers[1] [####...]   <- pread(fd, buffers[i] + used, n, position)
 *       |                                           onProgress(total) after each, abort checked before each
 *       v
 *   fstat again: still the same version? -> { transferred, eof, size, etag }
 *
 * The version is taken from the open handle, so the bytes and the ETag always belong together:
 * a file replaced by rename during the read keeps serving the old inode, and the answer carries
 * the old ETag. A file changed in place during the read fails with PRECONDITION_FAILED when the
 * caller gave `expect`; without `expect` the answer's etag is null (the bytes may be torn).
 * A read is short only at end of file (`eof: true`).
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import { NetfsError } from '../../api/errors.js';
import type { ReadOptions, ReadResult } from '../backend.js';
import type { LocalContext } from './context.js';
import { checkAncestors, lstatTarget, refuseUnsupported, resolveTarget } from './disk-path.js';
import { errnoOf, fsError, pathError, throwIfAborted } from './errors.js';
import { etagOf, versionMismatch } from './version.js';

/** The most one read syscall asks for. */
export const MAX_READ_CHUNK = 1024 * 1024;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export async function readRange(ctx: LocalContext, remotePath: string, options: ReadOptions): Promise<ReadResult> {
  const action = 'read';
  const target = resolveTarget(ctx.root, remotePath);
  checkReadOptions(options, remotePath);
  const { offset, length, buffers, expect, signal, onProgress } = options;
  throwIfAborted(signal, action, remotePath);
  await checkAncestors(ctx.root, target, action, 'NOT_FOUND');
  const lstats = await lstatTarget(ctx.root, target, action);
  if (lstats === null) throw pathError('NOT_FOUND', action, remotePath, 'no such file');
  refuseUnsupported(lstats, action, remotePath);
  if (lstats.isDirectory()) throw pathError('CONFLICT', action, remotePath, 'is a folder, not a file');

  let handle: FileHandle;
  try {
    handle = await fs.open(target.diskPath, OPEN_FLAGS);
  } catch (error) {
    if (errnoOf(error) === 'ELOOP') throw pathError('FORBIDDEN', action, remotePath, 'is a symbolic link; symbolic links are not followed');
    throw fsError(error, action, remotePath);
  }

  let transferred = 0;
  try {
    const before = await handle.stat({ bigint: true });
    if (!before.isFile()) throw pathError('CONFLICT', action, remotePath, 'is not a regular file');
    if (expect !== undefined) {
      const mismatch = versionMismatch(expect, before);
      if (mismatch !== null) throw pathError('PRECONDITION_FAILED', action, remotePath, `the file changed: ${mismatch}`);
    }

    let position = offset;
    let eof = false;
    fill: for (const buffer of buffers) {
      let used = 0;
      while (used < buffer.byteLength && transferred < length) {
        if (signal?.aborted === true) throw pathError('CANCELLED', action, remotePath, 'cancelled', transferred);
        const want = Math.min(MAX_READ_CHUNK, buffer.byteLength - used, length - transferred);
        const { bytesRead } = await handle.read(buffer, used, want, position);
        if (bytesRead === 0) {
          eof = true;
          break fill;
        }
        used += bytesRead;
        position += bytesRead;
        transferred += bytesRead;
        onProgress?.(transferred);
      }
      if (transferred >= length) break;
    }

    const after = await handle.stat({ bigint: true });
    const etag = etagOf(before);
    const unchanged = etagOf(after) === etag;
    if (!unchanged && expect !== undefined) {
      throw pathError('PRECONDITION_FAILED', action, remotePath, `the file changed while being read (ETag now ${etagOf(after)})`, transferred);
    }
    const size = Number(after.size);
    return { transferred, eof: eof || offset + transferred >= size, size, etag: unchanged ? etag : null };
  } catch (error) {
    const mapped = fsError(error, action, remotePath);
    if (transferred === 0 || mapped.transferred !== undefined) throw mapped;
    throw new NetfsError(mapped.code, mapped.message, { transferred, cause: error });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function checkReadOptions(options: ReadOptions, remotePath: string): void {
  const bad = (reason: string): NetfsError => pathError('INVALID_ARGUMENT', 'read', remotePath, reason);
  if (!Number.isSafeInteger(options.offset) || options.offset < 0) throw bad(`offset must be a non-negative integer, got ${options.offset}`);
  if (!Number.isSafeInteger(options.length) || options.length < 0) throw bad(`length must be a non-negative integer, got ${options.length}`);
  if (!Array.isArray(options.buffers)) throw bad('buffers must be an array of Uint8Array');
  let capacity = 0;
  for (const buffer of options.buffers) {
    if (!(buffer instanceof Uint8Array)) throw bad('buffers must be an array of Uint8Array');
    capacity += buffer.byteLength;
  }
  if (capacity < options.length) throw bad(`buffers hold ${capacity} bytes, fewer than the ${options.length} asked for`);
}

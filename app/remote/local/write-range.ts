/**
 * Ranged writes of the local backend (RemoteBackend.writeRange): positional writes into the
 * existing file, in place, made durable before the call resolves. The engine's unbuffered
 * writes (origin UW) go through here; plain WebDAV has nothing like it.
 *
 *   checks: path, every folder on the way (NOT_FOUND), the target is a regular file (not a
 *           folder: CONFLICT; symlink: FORBIDDEN; FIFO/device: UNSUPPORTED; missing: NOT_FOUND)
 *      |
 *      v   under the per-path lock (a whole-file write's rename, a move or a delete of the same
 *          path never interleaves with it):
 *   open(O_WRONLY | O_NOFOLLOW)   offset <= size (no holes: INVALID_ARGUMENT)
 *      |  pull the source: each chunk pwritten at offset + received before the next is pulled
 *      |  onProgress(written); abort checked between chunks
 *      v
 *   fsync -> close -> { written }
 *
 * A failure after some bytes reached the file is thrown with `transferred` = those bytes, so the
 * caller can re-issue exactly the rest (digest §3.7). Not atomic: a reader may see part of it.
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import { NetfsError } from '../../api/errors.js';
import type { WriteRangeOptions, WriteRangeResult } from '../backend.js';
import type { LocalContext } from './context.js';
import { checkAncestors, lstatTarget, refuseUnsupported, resolveTarget } from './disk-path.js';
import { errnoOf, fsError, pathError, throwIfAborted } from './errors.js';
import { drainSource } from './source.js';
import { MAX_WRITE_CHUNK } from './write.js';

const OPEN_FLAGS = constants.O_WRONLY | constants.O_NOFOLLOW;

export async function writeRangeInPlace(ctx: LocalContext, remotePath: string, options: WriteRangeOptions): Promise<WriteRangeResult> {
  const action = 'write range';
  const target = resolveTarget(ctx.root, remotePath);
  checkRangeOptions(options, remotePath);
  const { offset, length, source, signal, onProgress } = options;
  throwIfAborted(signal, action, remotePath);
  await checkAncestors(ctx.root, target, action, 'NOT_FOUND');
  return ctx.locks.withLocks([remotePath], async () => {
    const lstats = await lstatTarget(ctx.root, target, action);
    if (lstats === null || target.segments.length === 0) {
      throw pathError(lstats === null ? 'NOT_FOUND' : 'CONFLICT', action, remotePath, lstats === null ? 'no such file' : 'is the root folder');
    }
    refuseUnsupported(lstats, action, remotePath);
    if (lstats.isDirectory()) throw pathError('CONFLICT', action, remotePath, 'is a folder, not a file');

    let handle: FileHandle | undefined;
    let written = 0;
    try {
      try {
        handle = await fs.open(target.diskPath, OPEN_FLAGS);
      } catch (error) {
        if (errnoOf(error) === 'ELOOP') throw pathError('FORBIDDEN', action, remotePath, 'is a symbolic link; symbolic links are not followed');
        throw error;
      }
      const file = handle;
      const stats = await file.stat({ bigint: true });
      if (!stats.isFile()) throw pathError('CONFLICT', action, remotePath, 'is not a regular file');
      if (BigInt(offset) > stats.size) {
        throw pathError('INVALID_ARGUMENT', action, remotePath, `offset ${offset} is past the end of the file (${stats.size} bytes): it would leave a hole`);
      }
      await drainSource(source, {
        length,
        signal,
        action,
        remotePath,
        onChunk: async (chunk, position) => {
          let done = 0;
          while (done < chunk.byteLength) {
            const want = Math.min(MAX_WRITE_CHUNK, chunk.byteLength - done);
            const { bytesWritten } = await file.write(chunk, done, want, offset + position + done);
            if (bytesWritten <= 0) throw Object.assign(new Error('the disk accepted no bytes'), { code: 'EIO' });
            done += bytesWritten;
            written += bytesWritten;
          }
        },
        onProgress,
      });
      await file.sync();
      await file.close();
      handle = undefined;
      return { written };
    } catch (error) {
      const mapped = fsError(error, action, remotePath);
      if (written === 0) throw mapped;
      // Part of it is in the file: say how much (the bytes are there, though not fsynced).
      throw new NetfsError(mapped.code, mapped.message, { transferred: written, cause: error, ...(mapped.retryAfterMs === undefined ? {} : { retryAfterMs: mapped.retryAfterMs }) });
    } finally {
      await handle?.close().catch(() => undefined);
    }
  });
}

function checkRangeOptions(options: WriteRangeOptions, remotePath: string): void {
  const bad = (reason: string): Error => pathError('INVALID_ARGUMENT', 'write range', remotePath, reason);
  if (!Number.isSafeInteger(options.offset) || options.offset < 0) throw bad(`offset must be a non-negative integer, got ${options.offset}`);
  if (!Number.isSafeInteger(options.length) || options.length < 0) throw bad(`length must be a non-negative integer, got ${options.length}`);
  if (options.source === null || typeof options.source !== 'object' || !(Symbol.asyncIterator in options.source)) {
    throw bad('source must be an async iterable of Uint8Array');
  }
}

/**
 * delete of the local backend: a file, or a folder with everything in it.
 *
 *   checks (path, not the root, ancestors are real folders: a delete "through" a symlink is
 *   refused) -> lock path -> lstat -> precondition -> unlink | rm -r -> fsync parent
 *
 * The precondition is checked against the entry's current ETag right before the removal (for
 * a folder that ETag moves only with its direct children). fs.rm never follows a symlink inside
 * the folder: it removes the link, not what it points to. A failure half-way through a folder
 * leaves the rest of it in place (and visible).
 */
import fs from 'node:fs/promises';
import type { DeleteOptions } from '../backend.js';
import type { LocalContext } from './context.js';
import { checkAncestors, lstatTarget, refuseUnsupported, resolveTarget } from './disk-path.js';
import { fsError, pathError, throwIfAborted } from './errors.js';
import { syncFolder } from './fsync-dir.js';
import { checkExistingEntry } from './preconditions.js';

export async function deleteEntry(ctx: LocalContext, remotePath: string, options: DeleteOptions = {}): Promise<void> {
  const action = 'delete';
  const { signal } = options;
  const target = resolveTarget(ctx.root, remotePath);
  if (target.segments.length === 0) throw pathError('INVALID_ARGUMENT', action, remotePath, 'refusing to delete the root folder');
  throwIfAborted(signal, action, remotePath);
  await checkAncestors(ctx.root, target, action, 'NOT_FOUND');
  await ctx.locks.withLocks([remotePath], async () => {
    const stats = await lstatTarget(ctx.root, target, action);
    if (stats === null) throw pathError('NOT_FOUND', action, remotePath, 'no such file or folder');
    refuseUnsupported(stats, action, remotePath);
    checkExistingEntry(stats, options.precondition, action, remotePath);
    throwIfAborted(signal, action, remotePath);
    try {
      if (stats.isDirectory()) await fs.rm(target.diskPath, { recursive: true });
      else await fs.unlink(target.diskPath);
    } catch (error) {
      throw fsError(error, action, remotePath);
    }
    await syncFolder(target.parentDisk, action, remotePath);
  });
}

/**
 * mkdir of the local backend: one folder, whose parent must exist.
 *
 *   checks (path, ancestors are real folders) -> lock path -> mkdir (not recursive) -> fsync parent
 *        parent missing: CONFLICT "parent folder missing";  name taken: CONFLICT "already exists"
 */
import fs from 'node:fs/promises';
import type { LocalContext } from './context.js';
import { checkAncestors, resolveTarget } from './disk-path.js';
import { errnoOf, fsError, pathError, throwIfAborted } from './errors.js';
import { syncFolder } from './fsync-dir.js';

export async function makeFolder(ctx: LocalContext, remotePath: string, signal?: AbortSignal): Promise<void> {
  const action = 'mkdir';
  const target = resolveTarget(ctx.root, remotePath);
  if (target.segments.length === 0) throw pathError('CONFLICT', action, remotePath, 'already exists (it is the root folder)');
  throwIfAborted(signal, action, remotePath);
  await checkAncestors(ctx.root, target, action, 'CONFLICT');
  await ctx.locks.withLocks([remotePath], async () => {
    throwIfAborted(signal, action, remotePath);
    try {
      await fs.mkdir(target.diskPath);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === 'EEXIST') throw pathError('CONFLICT', action, remotePath, 'already exists');
      if (errno === 'ENOENT') throw pathError('CONFLICT', action, remotePath, 'parent folder missing');
      throw fsError(error, action, remotePath);
    }
    await syncFolder(target.parentDisk, action, remotePath);
  });
}

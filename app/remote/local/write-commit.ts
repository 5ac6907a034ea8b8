/**
 * The commit of a write: check the precondition against what is at the final name now, then
 * put the (complete, fsynced) temp file there, then fsync the folder. The caller holds the
 * path's lock, so inside one process nothing changes the name between check and commit.
 *
 *   precondition   check (lstat final)             put in place
 *   ------------   -----------------------------   -------------------------------------------
 *   none           not a folder / symlink          rename(temp, final)       atomic replace
 *   match          exists, same version            rename(temp, final)       atomic replace
 *   absent         nothing there                   link(temp, final); unlink(temp)
 *                                                  (EEXIST: PRECONDITION_FAILED, atomically,
 *                                                   even against other processes)
 *
 * Where the filesystem has no hard links (FAT, some network mounts), `absent` falls back to
 * check-then-rename. Across processes, `match` (and that fallback) keep a small window between
 * the check and the rename in which another program's change can be overwritten: a local
 * filesystem has no If-Match.
 */
import fs from 'node:fs/promises';
import type { Precondition } from '../backend.js';
import type { LocalContext } from './context.js';
import type { Target } from './disk-path.js';
import { lstatTarget } from './disk-path.js';
import { errnoOf, fsError, pathError } from './errors.js';
import { syncFolder } from './fsync-dir.js';
import { checkWriteTarget } from './preconditions.js';

/** errno values of link() that mean "this filesystem has no hard links". */
export const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/** Checks the precondition and moves `tempPath` to the target's name. Call with the path's lock held. */
export async function commitTemp(ctx: LocalContext, target: Target, tempPath: string, precondition: Precondition, action: string): Promise<void> {
  const current = await lstatTarget(ctx.root, target, action);
  checkWriteTarget(current, precondition, action, target.remotePath);
  try {
    if (precondition.kind === 'absent') await linkNoReplace(ctx, target, tempPath, action);
    else await fs.rename(tempPath, target.diskPath);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') {
      throw pathError('CONFLICT', action, target.remotePath, 'parent folder missing (it was removed or moved during the write)');
    }
    throw fsError(error, action, target.remotePath);
  }
  await syncFolder(target.parentDisk, action, target.remotePath);
}

async function linkNoReplace(ctx: LocalContext, target: Target, tempPath: string, action: string): Promise<void> {
  try {
    await fs.link(tempPath, target.diskPath);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'EEXIST') throw pathError('PRECONDITION_FAILED', action, target.remotePath, 'already exists (the write was create-only)');
    if (errno === undefined || !LINK_UNSUPPORTED.has(errno)) throw error;
    // No hard links here: check again, then rename (a window remains across processes).
    checkWriteTarget(await lstatTarget(ctx.root, target, action), { kind: 'absent' }, action, target.remotePath);
    await fs.rename(tempPath, target.diskPath);
    return;
  }
  // The file is in place under both names; dropping the temp name cannot lose it.
  await fs.unlink(tempPath).catch(() => undefined);
}

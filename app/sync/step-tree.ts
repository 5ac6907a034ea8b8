/**
 * The steps that change the tree rather than move file bytes: folders made and removed, files
 * deleted (local ones into the trash), a local rename repeated on the server as MOVE.
 *
 *   delete-remote   DELETE If-Match base; a server that ignores it is stat-checked first (F14);
 *                   a folder is deleted only when the server's listing of it is empty
 *   delete-local    file still as the plan saw it -> trash (never unlink); folder -> rmdir if empty
 *   move-remote     MOVE from -> to, If-Match base
 *   folder move     MOVE of the collection, Overwrite: F (L4); the journal rows of the subtree are
 *                   renamed in one transaction; the destination exists -> nothing done, the next
 *                   pass plans it per file
 *   move-local      the server renamed a folder: rename(2) of the local folder, rows renamed (L4)
 */
import { mkdir, rename, rmdir } from 'node:fs/promises';
import { NetfsError, isNetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import { checkNoSymlinkParents, localPath } from './local-path.js';
import { baseOf, localNow, sameLocal } from './local-state.js';
import type { BaseEntry, LocalEntry } from './model.js';
import type { PropagateContext } from './propagate-context.js';
import { preconditionFor, sameRemote } from './step-upload.js';

function opts(ctx: PropagateContext): { signal?: AbortSignal } {
  return ctx.signal === undefined ? {} : { signal: ctx.signal };
}

export async function makeLocalFolder(ctx: PropagateContext, remote: RemoteEntry): Promise<BaseEntry> {
  const dir = localPath(ctx.root, remote.path);
  await checkNoSymlinkParents(ctx.root, remote.path);
  await mkdir(dir, { recursive: true });
  const now = await localNow(dir, remote.path);
  if (now === null || now === 'other' || now.kind !== 'folder') throw new NetfsError('CONFLICT', `${remote.path}: something that is not a folder is in the way locally`);
  return baseOf(remote.path, now, remote);
}

export async function makeRemoteFolder(ctx: PropagateContext, local: LocalEntry): Promise<BaseEntry> {
  try {
    await ctx.backend.mkdir(local.path, opts(ctx));
  } catch (e) {
    if (!(isNetfsError(e) && e.code === 'CONFLICT')) throw e;
    // Already there (or a file is in the way): the stat below tells which.
  }
  const remote = await ctx.backend.stat(local.path, opts(ctx));
  if (remote.kind !== 'folder') throw new NetfsError('CONFLICT', `${local.path}: a file is in the way on the server`);
  return baseOf(local.path, local, remote);
}

/** Returns false when the local entry changed since the plan (kept; the next pass decides). */
export async function deleteLocal(ctx: PropagateContext, local: LocalEntry): Promise<boolean> {
  const target = localPath(ctx.root, local.path);
  await checkNoSymlinkParents(ctx.root, local.path);
  const now = await localNow(target, local.path);
  if (now === null) return true;
  if (local.kind === 'folder') {
    if (now === 'other' || now.kind !== 'folder') return false;
    try {
      await rmdir(target);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }
  if (!sameLocal(now, local)) return false;
  await ctx.trash.trash(target, local.path);
  return true;
}

/** Deletes the server's entry if it is still the base version. */
export async function deleteRemote(ctx: PropagateContext, remote: RemoteEntry, base: BaseEntry): Promise<boolean> {
  if (remote.kind === 'folder') {
    const listing = await ctx.backend.list(remote.path, opts(ctx));
    if (listing.entries.length > 0 || listing.problems.length > 0) return false;
    await ctx.backend.delete(remote.path, opts(ctx)).catch((e: unknown) => {
      if (!(isNetfsError(e) && e.code === 'NOT_FOUND')) throw e;
    });
    return true;
  }
  if (!ctx.caps.ifMatchOnDelete || base.etag === null) {
    const now = await ctx.backend.stat(remote.path, opts(ctx)).catch((e: unknown) => {
      if (isNetfsError(e) && e.code === 'NOT_FOUND') return null;
      throw e;
    });
    if (now === null) return true;
    if (!sameRemote(now, base)) {
      throw new NetfsError('PRECONDITION_FAILED', `${remote.path}: changed on the server since the last sync; not deleted`);
    }
  }
  try {
    await ctx.backend.delete(remote.path, { ...opts(ctx), precondition: preconditionFor(base) });
  } catch (e) {
    if (isNetfsError(e) && e.code === 'NOT_FOUND') return true;
    throw e;
  }
  return true;
}

/** MOVE `from` -> `to` on the server, the source still being the base version. */
export async function moveRemote(ctx: PropagateContext, from: string, local: LocalEntry, base: BaseEntry): Promise<BaseEntry> {
  await ctx.backend.move(from, local.path, { ...opts(ctx), precondition: preconditionFor(base) });
  const remote = await ctx.backend.stat(local.path, opts(ctx));
  return baseOf(local.path, local, remote);
}

/**
 * MOVE the folder `from` -> `local.path` on the server (the whole collection, Overwrite: F), then
 * rename the journal rows of the subtree. No If-Match: a collection's ETag changes with what is
 * inside it; the plan saw the server's subtree equal to the base moments ago, and the rows keep
 * their ETags, so a server edit that raced the MOVE shows up at the new path next pass (not lost).
 * False when the destination exists by now: nothing was done, and the next pass (which sees it)
 * plans per file.
 */
export async function moveRemoteFolder(ctx: PropagateContext, from: string, local: LocalEntry): Promise<boolean> {
  const now = await localNow(localPath(ctx.root, local.path), local.path);
  if (now === null || now === 'other' || now.kind !== 'folder') return false;
  try {
    await ctx.backend.move(from, local.path, opts(ctx));
  } catch (e) {
    if (isNetfsError(e) && e.code === 'CONFLICT') {
      ctx.log('info', 'folder move: the destination exists on the server; planned per file next pass', { from, to: local.path });
      return false;
    }
    throw e;
  }
  ctx.journal.renameTree(from, local.path);
  const remote = await ctx.backend.stat(local.path, opts(ctx));
  ctx.journal.recordSynced([baseOf(local.path, now, remote)]);
  return true;
}

/**
 * The server renamed the folder `from` to `remote.path`: one rename(2) of the local folder, then
 * the journal rows of the subtree renamed. Skipped (false, nothing done) when the local folder
 * is not the one planned on (another inode) or something is at the destination by now. A file
 * edited inside meanwhile moves along and keeps its old row values: the next pass uploads it.
 */
export async function moveLocalFolder(ctx: PropagateContext, from: string, local: LocalEntry, remote: RemoteEntry): Promise<boolean> {
  const to = remote.path;
  await checkNoSymlinkParents(ctx.root, from);
  await checkNoSymlinkParents(ctx.root, to);
  const src = localPath(ctx.root, from);
  const dst = localPath(ctx.root, to);
  const now = await localNow(src, from);
  if (now === null || now === 'other' || now.kind !== 'folder' || (local.ino > 0 && now.ino !== local.ino)) return false;
  // rename(2) would replace an empty folder at the destination: only onto nothing.
  if ((await localNow(dst, to)) !== null) return false;
  await rename(src, dst);
  ctx.journal.renameTree(from, to);
  const moved = await localNow(dst, to);
  if (moved !== null && moved !== 'other' && moved.kind === 'folder') ctx.journal.recordSynced([baseOf(to, moved, remote)]);
  return true;
}

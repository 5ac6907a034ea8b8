/**
 * move of the local backend (rename within the root), with WebDAV MOVE's Overwrite semantics.
 *
 *   checks: both paths clean, neither the root, not into its own subtree (nor onto an ancestor),
 *           source's ancestors exist (NOT_FOUND), destination's parent exists (CONFLICT)
 *   lock both paths (sorted) -> lstat source (NOT_FOUND) -> precondition on the source
 *   -> lstat destination:
 *
 *   destination      overwrite   file source                      folder source
 *   ---------------  ---------   ------------------------------   -------------------------------
 *   absent           any         link(src, dst); unlink(src)      check-then-rename (*)
 *                                (EEXIST: CONFLICT, atomically)
 *   exists           false       CONFLICT "destination exists"
 *   file             true        rename (atomic replace)          dst aside to .netfs-partial-*,
 *   folder           true        dst aside, rename, rm -r aside   rename, rm -r aside
 *   same inode (a case-only rename on a case-insensitive disk): plain rename
 *
 *   -> fsync the destination's folder (and the source's when it differs)
 *
 * (*) folders cannot be hard-linked: inside one process the lock closes the window; another
 * process that creates an empty folder at the destination between check and rename loses it.
 * A moved file keeps its inode, size and mtime, so its ETag does not change.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NetfsError, isNetfsError } from '../../api/errors.js';
import type { MoveOptions } from '../backend.js';
import type { LocalContext } from './context.js';
import type { Target } from './disk-path.js';
import { checkAncestors, lstatTarget, refuseUnsupported, resolveTarget } from './disk-path.js';
import { errnoOf, fsError, pathError, quote, throwIfAborted } from './errors.js';
import { syncFolder } from './fsync-dir.js';
import { PARTIAL_PREFIX, tempName } from './names.js';
import { checkExistingEntry } from './preconditions.js';
import { LINK_UNSUPPORTED } from './write-commit.js';

export async function moveEntry(ctx: LocalContext, from: string, to: string, options: MoveOptions = {}): Promise<void> {
  const action = 'move';
  const { signal } = options;
  const src = resolveTarget(ctx.root, from);
  const dst = resolveTarget(ctx.root, to);
  if (src.segments.length === 0) throw pathError('INVALID_ARGUMENT', action, from, 'the root folder cannot be moved');
  if (dst.segments.length === 0) throw pathError('INVALID_ARGUMENT', action, from, 'cannot replace the root folder');
  if (from === to) throw pathError('INVALID_ARGUMENT', action, from, 'source and destination are the same');
  if (isWithin(dst.segments, src.segments)) throw pathError('CONFLICT', action, from, `cannot move a folder into itself (${quote(to)})`);
  if (isWithin(src.segments, dst.segments)) throw pathError('CONFLICT', action, from, `the destination ${quote(to)} contains the source`);
  throwIfAborted(signal, action, from);
  await checkAncestors(ctx.root, src, action, 'NOT_FOUND');
  await checkAncestors(ctx.root, dst, `${action} to`, 'CONFLICT');

  await ctx.locks.withLocks([from, to], async () => {
    const source = await lstatTarget(ctx.root, src, action);
    if (source === null) throw pathError('NOT_FOUND', action, from, 'no such file or folder');
    refuseUnsupported(source, action, from);
    checkExistingEntry(source, options.precondition, action, from);
    const existing = await lstatTarget(ctx.root, dst, action);
    if (existing !== null) refuseUnsupported(existing, `${action} to`, to);
    throwIfAborted(signal, action, from);
    try {
      if (existing === null) {
        await moveNoReplace(ctx, src, dst, source, action);
      } else if (existing.ino === source.ino && existing.dev === source.dev) {
        await fs.rename(src.diskPath, dst.diskPath);
      } else if (options.overwrite !== true) {
        throw pathError('CONFLICT', action, from, `the destination ${quote(to)} already exists`);
      } else if (source.isFile() && existing.isFile()) {
        await fs.rename(src.diskPath, dst.diskPath);
      } else {
        await replaceAside(src, dst);
      }
    } catch (error) {
      throw moveError(error, action, from, to);
    }
    await syncFolder(dst.parentDisk, action, to);
    if (dst.parentDisk !== src.parentDisk) await syncFolder(src.parentDisk, action, from);
  });
}

/** True when `inner` is `outer` or lies below it. */
function isWithin(inner: readonly string[], outer: readonly string[]): boolean {
  return inner.length >= outer.length && outer.every((name, i) => inner[i] === name);
}

async function moveNoReplace(ctx: LocalContext, src: Target, dst: Target, source: BigIntStats, action: string): Promise<void> {
  if (source.isFile()) {
    try {
      await fs.link(src.diskPath, dst.diskPath);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === 'EEXIST') throw pathError('CONFLICT', action, src.remotePath, `the destination ${quote(dst.remotePath)} already exists`);
      if (errno === undefined || !LINK_UNSUPPORTED.has(errno)) throw error;
      await renameIfStillAbsent(ctx, src, dst, action);
      return;
    }
    try {
      await fs.unlink(src.diskPath);
    } catch (error) {
      // Leave things as they were: the file under its old name only.
      await fs.unlink(dst.diskPath).catch(() => undefined);
      throw error;
    }
    return;
  }
  await renameIfStillAbsent(ctx, src, dst, action);
}

async function renameIfStillAbsent(ctx: LocalContext, src: Target, dst: Target, action: string): Promise<void> {
  if ((await lstatTarget(ctx.root, dst, action)) !== null) {
    throw pathError('CONFLICT', action, src.remotePath, `the destination ${quote(dst.remotePath)} already exists`);
  }
  await fs.rename(src.diskPath, dst.diskPath);
}

/** Replaces a destination of another kind (or a folder) by moving it aside first; restores it on failure. */
async function replaceAside(src: Target, dst: Target): Promise<void> {
  const aside = path.join(dst.parentDisk, tempName(PARTIAL_PREFIX));
  await fs.rename(dst.diskPath, aside);
  try {
    await fs.rename(src.diskPath, dst.diskPath);
  } catch (error) {
    await fs.rename(aside, dst.diskPath).catch(() => undefined);
    throw error;
  }
  // The move is done; a leftover that cannot be removed stays hidden (a .netfs-partial-* name).
  await fs.rm(aside, { recursive: true, force: true }).catch(() => undefined);
}

function moveError(error: unknown, action: string, from: string, to: string): Error {
  if (isNetfsError(error)) return error;
  const errno = errnoOf(error);
  if (errno === 'EEXIST' || errno === 'ENOTEMPTY') return pathError('CONFLICT', action, from, `the destination ${quote(to)} already exists`);
  if (errno === 'ENOENT') return pathError('CONFLICT', action, from, `the source or the destination's parent folder vanished during the move to ${quote(to)}`);
  const mapped = fsError(error, action, from);
  return new NetfsError(mapped.code, `${mapped.message} (moving to ${quote(to)})`, { cause: error });
}

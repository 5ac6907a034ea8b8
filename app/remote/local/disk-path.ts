/**
 * Remote path -> disk path, and the checks that keep every operation inside the root.
 *
 *   root "/srv/share", remote "/docs/a b.txt"
 *      parseRemotePath  -> ["docs", "a b.txt"]        (refuses '..', '/', '\', NUL, ... : INVALID_ARGUMENT)
 *      reserved names   -> refuses ".netfs-partial-*" / ".netfs-probe-*" (INVALID_ARGUMENT)
 *      path.join        -> "/srv/share/docs/a b.txt"  (always below the root: no segment can climb)
 *      checkAncestors   -> stat(root) is a folder; lstat("/srv/share/docs") is a real folder,
 *                          not a symlink (FORBIDDEN), not a file (CONFLICT), present
 *                          (NOT_FOUND, or CONFLICT "parent folder missing" when creating)
 *      lstatTarget      -> the entry itself, never following a symlink
 *
 * Symlinks below the root are never followed, wherever they point: the backend's namespace
 * holds files and folders only. The checks are made with lstat just before the operation; a
 * process that swaps a folder for a symlink between the check and the syscall is not defended
 * against (Node has no openat()/RESOLVE_BENEATH). Reads open with O_NOFOLLOW, so the last
 * component is safe even then.
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { NetfsError } from '../../api/errors.js';
import { joinRemotePath, parseRemotePath } from '../path.js';
import { fsError, pathError, quote } from './errors.js';
import { isBackendTempName } from './names.js';

export interface Target {
  /** The remote path as given (already checked). */
  readonly remotePath: string;
  readonly segments: readonly string[];
  /** The last name ('' for the root). */
  readonly name: string;
  readonly diskPath: string;
  /** The remote and disk paths of the parent folder (the root's own for the root). */
  readonly parentRemote: string;
  readonly parentDisk: string;
}

/** Checks `remotePath` and maps it below `root`; nothing touches the disk yet. */
export function resolveTarget(root: string, remotePath: string): Target {
  const segments = parseRemotePath(remotePath);
  for (const segment of segments) {
    if (isBackendTempName(segment)) {
      throw new NetfsError(
        'INVALID_ARGUMENT',
        `bad remote path ${quote(remotePath)}: the name ${quote(segment)} is reserved for the local backend's temp files`,
      );
    }
  }
  const diskPath = path.join(root, ...segments);
  const relative = path.relative(root, diskPath);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    // Cannot happen with names parseRemotePath accepts; kept as a last line of defence.
    throw new NetfsError('INVALID_ARGUMENT', `bad remote path ${quote(remotePath)}: resolves outside the root`);
  }
  const parentSegments = segments.slice(0, -1);
  return {
    remotePath,
    segments,
    name: segments[segments.length - 1] ?? '',
    diskPath,
    parentRemote: joinRemotePath(parentSegments),
    parentDisk: segments.length === 0 ? root : path.join(root, ...parentSegments),
  };
}

/** What a missing ancestor means: the entry is not there, or the place to create it is missing. */
export type MissingAncestor = 'NOT_FOUND' | 'CONFLICT';

/**
 * The root is an existing folder, and every folder between it and the target is a real folder
 * (lstat: a symlink is FORBIDDEN, a file CONFLICT, a missing one `missing`).
 */
export async function checkAncestors(root: string, target: Target, action: string, missing: MissingAncestor): Promise<void> {
  await checkRoot(root, target.remotePath, action);
  let current = root;
  for (let i = 0; i < target.segments.length - 1; i++) {
    const segment = target.segments[i] as string;
    current = path.join(current, segment);
    const here = joinRemotePath(target.segments.slice(0, i + 1));
    let stats: BigIntStats;
    try {
      stats = await fs.lstat(current, { bigint: true });
    } catch (error) {
      const mapped = fsError(error, action, target.remotePath);
      if (mapped.code !== 'NOT_FOUND') throw mapped;
      throw missing === 'NOT_FOUND'
        ? pathError('NOT_FOUND', action, target.remotePath, `folder ${quote(here)} does not exist`)
        : pathError('CONFLICT', action, target.remotePath, `parent folder missing (${quote(here)} does not exist)`);
    }
    if (stats.isSymbolicLink()) {
      throw pathError('FORBIDDEN', action, target.remotePath, `${quote(here)} is a symbolic link; symbolic links are not followed`);
    }
    if (!stats.isDirectory()) {
      throw pathError('CONFLICT', action, target.remotePath, `${quote(here)} is not a folder`);
    }
  }
}

/** The root folder exists (following a symlink: the root may be a mount point's link). */
export async function checkRoot(root: string, remotePath: string, action: string): Promise<BigIntStats> {
  let stats: BigIntStats;
  try {
    stats = await fs.stat(root, { bigint: true });
  } catch (error) {
    const mapped = fsError(error, action, remotePath);
    if (mapped.code === 'NOT_FOUND') {
      throw pathError('NOT_FOUND', action, remotePath, `the remote's root folder ${quote(root)} does not exist`);
    }
    throw mapped;
  }
  if (!stats.isDirectory()) {
    throw pathError('CONFLICT', action, remotePath, `the remote's root ${quote(root)} is not a folder`);
  }
  return stats;
}

/**
 * The target's own stats without following a symlink, or null when it does not exist. The root
 * is stat'ed (checkRoot), everything below it lstat'ed.
 */
export async function lstatTarget(root: string, target: Target, action: string): Promise<BigIntStats | null> {
  if (target.segments.length === 0) return checkRoot(root, target.remotePath, action);
  try {
    return await fs.lstat(target.diskPath, { bigint: true });
  } catch (error) {
    const mapped = fsError(error, action, target.remotePath);
    if (mapped.code === 'NOT_FOUND') return null;
    throw mapped;
  }
}

/** 'symbolic link', 'FIFO', ... for entries that are neither files nor folders; null for those. */
export function unsupportedKind(stats: BigIntStats): string | null {
  if (stats.isFile() || stats.isDirectory()) return null;
  if (stats.isSymbolicLink()) return 'symbolic link';
  if (stats.isFIFO()) return 'FIFO (named pipe)';
  if (stats.isSocket()) return 'socket';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isCharacterDevice()) return 'character device';
  return 'special file';
}

/** Refuses symlinks (FORBIDDEN) and special files (UNSUPPORTED) as targets of an operation. */
export function refuseUnsupported(stats: BigIntStats, action: string, remotePath: string): void {
  const kind = unsupportedKind(stats);
  if (kind === null) return;
  if (stats.isSymbolicLink()) {
    throw pathError('FORBIDDEN', action, remotePath, 'is a symbolic link; symbolic links are not followed');
  }
  throw pathError('UNSUPPORTED', action, remotePath, `is a ${kind}, neither a file nor a folder`);
}

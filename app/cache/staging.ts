/**
 * Staging of synced downloads (DESIGN §6, cache issue item 7): a synced file's download goes
 * into its cache object (the engine's `stage`, origin download, bytes to the cache only), and
 * once whole the object's backing file becomes the file in the sync folder. One write of the
 * data in the common case; a download that was interrupted, even by SIGKILL, resumes from the
 * cache's occupancy (store.ts keeps a staging object's collected ranges after a crash).
 *
 *   beginStaging(store, key, aux)  openObject + staging = 1 (on record before any byte)
 *        engine.stage(path, { size, expect, cache: obj })     only the missing ranges
 *   placeStaged(obj, dest, { mtimeMs })
 *     obj.handOver: sole user, whole, nothing uncollected -> cut to size, fsync
 *       mode + mtime set on the backing file
 *       rename(backing file, dest)     same filesystem: atomic onto the final name; the object
 *          |                           is closed and its row dropped (no hardlink: the user's
 *          |                           file must never be reachable through the cache)
 *          +- EXDEV -> copy to <dest dir>/.netfs-partial-<rand>, fsync, rename onto dest;
 *                      the cache keeps its (now separate) copy, no longer staging
 *       fsync(dest dir)
 *   On any error the destination is untouched (nothing is ever written under its name but by
 *   one rename) and the object stays whole and staging, so placing can be tried again.
 *   cancelStaging(obj)   the download is given up: content dropped, no longer staging.
 *
 * A crash between the cut to size and the rename leaves a short backing file: the next open
 * discards the object (never served short) and the download starts again.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, lstat, open, rename, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NetfsError } from '../api/errors.js';
import { ioError } from './backing-file.js';
import type { CacheAux, CacheObject } from './object.js';
import type { CacheStore } from './store.js';

/** The prefix of a copy in progress in the destination folder (never uploaded; the sync layer ignores `.netfs*`). */
export const PARTIAL_PREFIX = '.netfs-partial-';

export interface PlaceOptions {
  /** The server's modification time, set on the placed file. */
  mtimeMs: number;
  /** The placed file's mode (default 0o644). */
  mode?: number;
  /** Called with the staged file (mode and mtime set) right before it is renamed onto `dest`. */
  beforeRename?: (staged: { ino: number; size: number; mtimeMs: number }) => void;
}

export interface PlaceOutcome {
  /** 'rename': the cache's file became the synced file; 'copy': it was copied (another filesystem). */
  how: 'rename' | 'copy';
  dest: string;
}

/** The cache object a synced file's download is staged in, marked staging before any write. */
export async function beginStaging(store: CacheStore, key: string, aux: CacheAux): Promise<CacheObject> {
  const obj = await store.openObject(key, aux);
  try {
    if (!obj.staging) await obj.setStaging(true);
  } catch (e) {
    await obj.close().catch(() => {});
    throw e;
  }
  return obj;
}

/**
 * Places a whole staged object at `dest` (a file in the sync folder): by rename when the cache
 * and `dest` share a filesystem, else by copy. The destination is replaced in one rename or
 * not at all.
 */
export async function placeStaged(obj: CacheObject, dest: string, options: PlaceOptions): Promise<PlaceOutcome> {
  const mode = options.mode ?? 0o644;
  const mtime = new Date(options.mtimeMs);
  const done = await obj.handOver(async (path) => {
    try {
      await chmod(path, mode);
      await utimes(path, mtime, mtime);
    } catch (e) {
      await chmod(path, 0o600).catch(() => {});
      throw ioError(e, `staging: mode and mtime of ${path}`);
    }
    let how: 'moved' | 'copied';
    try {
      if (options.beforeRename !== undefined) options.beforeRename(await stagedStat(path));
      how = await placeFile(path, dest, { mode, mtime, keepSource: true });
    } catch (e) {
      await chmod(path, 0o600).catch(() => {});
      throw e;
    }
    // Copied to another filesystem: the cache's own copy is private again.
    if (how === 'copied') await chmod(path, 0o600).catch(() => {});
    return how;
  });
  return { how: done === 'moved' ? 'rename' : 'copy', dest };
}

export interface PlaceFileOptions {
  mode: number;
  mtime: Date;
  /** Across filesystems the source is copied and left where it is (the cache keeps it). Default: unlinked. */
  keepSource?: boolean;
}

/**
 * Puts the whole, fsynced file `src` (mode and mtime already set) at `dest` in one rename, or
 * — another filesystem — copies it under a `.netfs-partial-*` name beside `dest`, fsyncs and
 * renames that. Then the folder is fsynced (shared with the renames of other files in it that
 * land meanwhile), so the new name is durable before the journal records it.
 */
export async function placeFile(src: string, dest: string, o: PlaceFileOptions): Promise<'moved' | 'copied'> {
  try {
    await rename(src, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw placeError(e, dest);
    await copyOut(src, dest, o.mode, o.mtime);
    if (o.keepSource !== true) await unlink(src).catch(() => {});
    return 'copied';
  }
  // Placed: from here on nothing may fail the hand-over (the file is the user's now).
  await syncDirShared(dirname(dest)).catch(() => {});
  return 'moved';
}

/** What a staged file is, for the caller's record before it is renamed. */
export async function stagedStat(path: string): Promise<{ ino: number; size: number; mtimeMs: number }> {
  const st = await lstat(path);
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

/** The staged download is given up: its content goes, the object is no longer staging. */
export async function cancelStaging(obj: CacheObject): Promise<void> {
  await obj.invalidate('write-error');
  await obj.setStaging(false);
}

/** Another filesystem: a copy under a `.netfs-partial-*` name beside `dest`, fsynced, renamed onto it. */
async function copyOut(src: string, dest: string, mode: number, mtime: Date): Promise<void> {
  const partial = join(dirname(dest), `${PARTIAL_PREFIX}${randomBytes(6).toString('hex')}`);
  try {
    await copyFile(src, partial, constants.COPYFILE_EXCL);
    const fh = await open(partial, 'r+');
    try {
      await fh.chmod(mode);
      await fh.utimes(mtime, mtime);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(partial, dest);
  } catch (e) {
    await unlink(partial).catch(() => {});
    throw placeError(e, dest);
  }
  await syncDirShared(dirname(dest)).catch(() => {});
}

/**
 * fsync of a folder shared by the callers that need one at the same time (group commit): each
 * caller gets an fsync that started after it asked, so what it renamed there before is durable,
 * and N files placed at once in one folder cost one or two fsyncs, not N.
 */
const dirSyncs = new Map<string, { running: Promise<void>; next: Promise<void> | null }>();

function syncDirShared(dir: string): Promise<void> {
  const s = dirSyncs.get(dir);
  if (s === undefined) {
    const running = syncDir(dir).finally(() => settle(dir));
    dirSyncs.set(dir, { running, next: null });
    return running;
  }
  s.next ??= s.running.catch(() => {}).then(() => {
    const running = syncDir(dir).finally(() => settle(dir));
    dirSyncs.set(dir, { running, next: null });
    return running;
  });
  return s.next;
}

function settle(dir: string): void {
  const s = dirSyncs.get(dir);
  if (s !== undefined && s.next === null) dirSyncs.delete(dir);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function placeError(e: unknown, dest: string): NetfsError {
  if (e instanceof NetfsError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const message = `staging: cannot place ${basename(dest)} at ${dest}`;
  const full = `${message}: ${(e as Error).message}`;
  if (code === 'ENOENT') return new NetfsError('NOT_FOUND', full, { cause: e });
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'ENOTEMPTY') return new NetfsError('CONFLICT', full, { cause: e });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new NetfsError('FORBIDDEN', full, { cause: e });
  return ioError(e, message);
}

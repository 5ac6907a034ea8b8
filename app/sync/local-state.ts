/**
 * The local side of one path as it is now, and the checks propagation makes right before it
 * changes anything: the file must still be what the plan saw, or the step is skipped (the next
 * pass plans again with what is there then).
 */
import { lstat } from 'node:fs/promises';
import type { BaseEntry, LocalEntry } from './model.js';
import type { RemoteEntry } from '../api/remote.js';

/** The entry at `file` now, or null when there is none. Symlinks and other kinds count as "something else". */
export async function localNow(file: string, path: string): Promise<LocalEntry | 'other' | null> {
  const info = await lstat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
    throw e;
  });
  if (info === null) return null;
  if (info.isFile()) return { path, kind: 'file', size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
  if (info.isDirectory()) return { path, kind: 'folder', size: 0, mtimeMs: info.mtimeMs, ino: info.ino };
  return 'other';
}

/** Same file as the plan saw: same kind, size and mtime. */
export function sameLocal(now: LocalEntry | 'other' | null, seen: LocalEntry | null): boolean {
  if (seen === null) return now === null;
  if (now === null || now === 'other') return false;
  return now.kind === seen.kind && (now.kind === 'folder' || (now.size === seen.size && now.mtimeMs === seen.mtimeMs));
}

/** The journal row for a path both sides now agree on. */
export function baseOf(path: string, local: LocalEntry, remote: RemoteEntry): BaseEntry {
  return {
    path,
    kind: local.kind,
    etag: remote.etag,
    remoteSize: remote.size,
    remoteMtimeMs: remote.mtimeMs,
    localSize: local.kind === 'file' ? local.size : 0,
    localMtimeMs: local.mtimeMs,
    localIno: local.ino,
  };
}

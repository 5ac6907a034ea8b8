/**
 * Remote paths to files in the sync folder, never leaving it (M1, M2).
 *
 *   "/docs/a b.txt" --localPath(root)--> "<root>/docs/a b.txt"
 *   checkNoSymlinkParents: every folder between the root and the file must be a real folder,
 *   so a symlink inside the root cannot send a write or a delete outside it.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { NetfsError } from '../api/errors.js';
import { parseRemotePath } from '../remote/path.js';

/** The disk path of `remotePath` under `root`; refuses anything that is not a clean remote path. */
export function localPath(root: string, remotePath: string): string {
  const names = parseRemotePath(remotePath);
  return names.length === 0 ? root : join(root, ...names);
}

/**
 * Fails with FORBIDDEN when a folder on the way from `root` to `remotePath` is a symlink or not a
 * folder (M2: "deletes behind a symlinked parent refused"). Missing folders are fine (they are
 * created by mkdir, which does not follow anything either).
 */
export async function checkNoSymlinkParents(root: string, remotePath: string): Promise<void> {
  const names = parseRemotePath(remotePath);
  let dir = root;
  for (const name of names.slice(0, -1)) {
    dir = join(dir, name);
    const info = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (info === null) return;
    if (info.isSymbolicLink()) throw new NetfsError('FORBIDDEN', `${remotePath}: refused, the folder ${dir} is a symlink`);
    if (!info.isDirectory()) throw new NetfsError('CONFLICT', `${remotePath}: ${dir} is not a folder`);
  }
}

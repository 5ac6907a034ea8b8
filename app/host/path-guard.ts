/**
 * Path arguments of the contract (S4): a command that names a path gets it here first, before
 * anything is read or changed.
 *
 *   remotePathSchema (contract: leading '/', no '', '.', '..', '\', NUL)      -- already checked
 *   parseRemotePath (app/remote/path.ts: every name a valid remote name)    -> INVALID_ARGUMENT
 *   '.netfs*' at the top (the client's own files)                            -> INVALID_ARGUMENT
 *   a folder on the way that is a symlink (checkNoSymlinkParents)            -> FORBIDDEN
 *   the entry itself a symlink (never synced, never followed)                -> FORBIDDEN
 *   the parent's real path not inside the sync root's real path              -> FORBIDDEN
 */
import { lstat, realpath } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { NetfsError } from '../api/errors.js';
import { isClientPath } from '../sync/ignore.js';
import { checkNoSymlinkParents, localPath } from '../sync/local-path.js';

async function realOrNull(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

/** The disk path of `path` in the sync folder `root`, after the checks above. */
export async function guardPath(root: string, path: string): Promise<string> {
  const file = localPath(root, path);
  if (path !== '/' && isClientPath(path)) throw new NetfsError('INVALID_ARGUMENT', `${path} is one of the client's own files, not a synced entry`);
  await checkNoSymlinkParents(root, path);
  if (path !== '/') {
    const self = await lstat(file).catch(() => null);
    if (self?.isSymbolicLink() === true) throw new NetfsError('FORBIDDEN', `${path}: refused, it is a symlink in the sync folder`);
  }
  const realRoot = await realOrNull(root);
  if (realRoot !== null && path !== '/') {
    // The nearest existing folder on the way must still be inside the root once resolved.
    let dir = dirname(file);
    let real = await realOrNull(dir);
    while (real === null && dir.length > root.length) {
      dir = dirname(dir);
      real = await realOrNull(dir);
    }
    if (real !== null && real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw new NetfsError('FORBIDDEN', `${path}: refused, it resolves outside the sync folder`);
    }
  }
  return file;
}

/**
 * fsync of a folder, so that a rename, link or unlink in it survives a power cut.
 *
 *   rename(temp, final) --> syncFolder(parent) --> the new directory entry is durable
 *
 * Filesystems that cannot fsync a folder (EINVAL, ENOTSUP, EBADF on some network and FUSE
 * mounts) are accepted silently: durability there is the mount's business. Other errors (EIO)
 * fail the operation, since the change may not be durable.
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import { errnoOf, fsError } from './errors.js';

const CANNOT_SYNC_FOLDERS = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF', 'EISDIR']);

export async function syncFolder(diskPath: string, action: string, remotePath: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(diskPath, 'r');
    await handle.sync();
  } catch (error) {
    const errno = errnoOf(error);
    if (errno !== undefined && CANNOT_SYNC_FOLDERS.has(errno)) return;
    throw fsError(error, `${action} (syncing the folder)`, remotePath);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

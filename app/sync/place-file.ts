/**
 * Placing a finished, fsynced download at its final name in the sync folder.
 *
 *   staged file (fsynced) --rename--> dest            same filesystem: one atomic step
 *                         --copy----> <dir>/.netfs-partial-<id> --fsync--> rename --> dest   (EXDEV)
 *   then: utimes(dest, server mtime); fsync(dir)
 *
 * The destination is replaced atomically or not at all: a reader sees the old or the new file.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, open, rename, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temp names for copies across filesystems; the scanner skips them at every level. */
export const PARTIAL_PREFIX = '.netfs-partial-';

async function fsyncPath(path: string, flags: number): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Moves `staged` onto `dest` (rename, or copy + rename across filesystems), with `mtimeMs` set. */
export async function placeFile(staged: string, dest: string, mtimeMs: number | null): Promise<void> {
  if (mtimeMs !== null) {
    const t = new Date(mtimeMs);
    await utimes(staged, t, t);
  }
  try {
    await rename(staged, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    const tmp = join(dirname(dest), `${PARTIAL_PREFIX}${randomUUID()}-${basename(dest).slice(0, 64)}`);
    try {
      await copyFile(staged, tmp, constants.COPYFILE_FICLONE);
      if (mtimeMs !== null) await utimes(tmp, new Date(mtimeMs), new Date(mtimeMs));
      await fsyncPath(tmp, constants.O_RDONLY);
      await rename(tmp, dest);
    } catch (copyError) {
      await unlink(tmp).catch(() => undefined);
      throw copyError;
    }
    await unlink(staged).catch(() => undefined);
  }
  await fsyncPath(dirname(dest), constants.O_RDONLY | constants.O_DIRECTORY).catch(() => undefined);
}

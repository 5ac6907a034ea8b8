/**
 * Downloads through the engine into a staging file in the state folder, then places it.
 *
 *   engine.download(path -> <staging>/<id>)   whole file, If-Match, fsynced
 *   stillExpected()?  no  -> unlink the staged file, resolve false (dest untouched)
 *                     yes -> placeFile(staged -> dest, server mtime)
 *
 * Nothing partial ever appears under a user-visible name (F2, C2): the staged file lives in
 * the state folder, and a leftover one from a crash is removed at start (cleanStaging).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { NetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import type { NetfsEngine } from '../netfs/engine.js';
import { placeFile } from './place-file.js';
import type { DownloadPort } from './propagate-context.js';

export interface StagedDownloadsOptions {
  engine: NetfsEngine;
  stagingDir: string;
  /** The sync folder: downloads pause while its filesystem has less than `minFreeRatio` free (F15). */
  root: string;
  /** Default 0.01 (1 %, as Syncthing's minDiskFree). */
  minFreeRatio?: number;
}

/** The free fraction of the filesystem holding `path` (for unprivileged users: bavail). */
export async function freeRatio(path: string): Promise<number> {
  const s = await statfs(path);
  return s.blocks === 0 ? 1 : s.bavail / s.blocks;
}

export class StagedDownloads implements DownloadPort {
  readonly #o: StagedDownloadsOptions;

  constructor(options: StagedDownloadsOptions) {
    this.#o = options;
  }

  /** Removes staged files a crash left behind (C2, C8): never placed, never uploaded. */
  async cleanStaging(): Promise<number> {
    await mkdir(this.#o.stagingDir, { recursive: true, mode: 0o700 });
    let removed = 0;
    for (const name of await readdir(this.#o.stagingDir)) {
      await unlink(join(this.#o.stagingDir, name)).then(() => removed++, () => undefined);
    }
    return removed;
  }

  async fetchAndPlace(remote: RemoteEntry, dest: string, stillExpected: () => Promise<boolean>, signal?: AbortSignal): Promise<boolean> {
    const floor = this.#o.minFreeRatio ?? 0.01;
    const free = await freeRatio(this.#o.root);
    if (free < floor) {
      throw new NetfsError(
        'INSUFFICIENT_STORAGE',
        `${remote.path}: download paused, the sync folder's disk has ${(free * 100).toFixed(2)} % free (under ${(floor * 100).toFixed(0)} %)`,
      );
    }
    if (remote.size === null) throw new NetfsError('PROTOCOL', `${remote.path}: the server did not say how big the file is`);
    await mkdir(this.#o.stagingDir, { recursive: true, mode: 0o700 });
    const staged = join(this.#o.stagingDir, randomUUID());
    try {
      await this.#o.engine.download(remote.path, {
        size: remote.size,
        expect: { etag: remote.etag, size: remote.size, mtimeMs: remote.mtimeMs },
        target: staged,
        ...(signal === undefined ? {} : { signal }),
      });
      if (!(await stillExpected())) return false;
      await placeFile(staged, dest, remote.mtimeMs);
      return true;
    } finally {
      await unlink(staged).catch(() => undefined);
    }
  }
}

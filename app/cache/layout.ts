/**
 * Where things live in a cache folder, and the graveyard that deletes them in the background
 * (digest §5.2).
 *
 *   <dir>/index.sqlite (+ -wal, -shm)        the index (index-db.ts)
 *   <dir>/objects/ab/cd/<name>               committed backing file of one object
 *   <dir>/objects/ab/cd/<name>.tmp[-<rand>]  a new backing file, linked to <name> at commit
 *   <dir>/graveyard/<n>-<rand>               buried files, unlinked by the reaper
 *   <dir>/staging/<volume>/<rand>.tmp        small synced downloads in progress (no row; all
 *                                            buried at open: only the engine holding the
 *                                            state folder's lock opens the store)
 *
 *   name = sha256(volume NUL key) in hex; ab, cd = its first two bytes (256 x 256 fan-out)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const INDEX_FILE = 'index.sqlite';
export const OBJECTS_DIR = 'objects';
export const GRAVEYARD_DIR = 'graveyard';
export const STAGING_DIR = 'staging';

/** The backing file name of a cookie (key) in a volume. */
export function objectName(volume: string, key: string): string {
  return createHash('sha256').update(volume).update('\0').update(key).digest('hex');
}

/** objects/ab/cd, relative to the cache folder. */
export function fanoutDir(name: string): string {
  return join(OBJECTS_DIR, name.slice(0, 2), name.slice(2, 4));
}

export function objectPath(dir: string, name: string): string {
  return join(dir, fanoutDir(name), name);
}

/** A temp name for a new backing file: `<name>.tmp` when predictable (tests aim faults at it). */
export function tempPath(dir: string, name: string, predictable: boolean): string {
  return `${objectPath(dir, name)}.tmp${predictable ? '' : `-${randomBytes(6).toString('hex')}`}`;
}

/** Moves files to the graveyard and deletes them in the background. */
export class Graveyard {
  readonly dir: string;
  #seq = 0;
  #reaping: Promise<void> = Promise.resolve();

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, GRAVEYARD_DIR);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.reap();
  }

  /** Renames `path` into the graveyard (a missing file is fine) and schedules the reaper. */
  async bury(path: string): Promise<void> {
    const dest = join(this.dir, `${Date.now()}-${this.#seq++}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(path, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return;
    }
    this.reap();
  }

  /** Deletes whatever the graveyard holds (queued behind earlier passes). */
  reap(): void {
    this.#reaping = this.#reaping.then(async () => {
      const names = await readdir(this.dir).catch(() => [] as string[]);
      for (const n of names) await rm(join(this.dir, n), { recursive: true, force: true }).catch(() => {});
    });
  }

  /** Resolves when every scheduled deletion has run. */
  async drain(): Promise<void> {
    let p: Promise<void>;
    do {
      p = this.#reaping;
      await p;
    } while (p !== this.#reaping);
  }
}

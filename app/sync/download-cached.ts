/**
 * Downloads of synced files staged in the cache (DESIGN §6): one write of the data in the
 * common case, and an interrupted download resumes from the cache's occupancy.
 *
 *   free space of the sync folder >= 1 % ?  no -> INSUFFICIENT_STORAGE (downloads pause, F15)
 *   beginStaging(store, path, aux)            the object, marked staging before any byte
 *   engine.stage(path, { cache: obj })        only the ranges the cache lacks (ranged GETs, If-Match)
 *   stillExpected()?   no -> keep the object staged (a later pass resumes or discards it)
 *   placeStaged(obj, dest, { mtime })         fsync, cut to size, rename onto dest (or copy, EXDEV)
 *
 *   Small files (at most SMALL_STAGE_MAX, one GET, nothing to resume) with no object yet skip
 *   the object: engine.download into store.smallStagingTemp (the same folder in the cache, no
 *   index row), mode and mtime set and fsynced there, placeFile onto dest — the same single
 *   write and rename, without the four index commits an object costs.
 *
 * The destination is never touched on error: it is replaced by one rename or not at all.
 */
import { NetfsError, isNetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import type { CacheAux } from '../cache/object.js';
import { beginStaging, cancelStaging, placeFile, placeStaged, stagedStat } from '../cache/staging.js';
import type { CacheStore } from '../cache/store.js';
import type { NetfsEngine } from '../netfs/engine.js';
import { statfs, unlink } from 'node:fs/promises';
import type { DownloadPort, StagedFile } from './propagate-context.js';

/** Files up to this size are fetched in one GET and staged without a cache object. */
export const SMALL_STAGE_MAX = 1024 * 1024;

/** How long a free-space reading is reused while the disk is far above the floor. */
const FREE_READING_MS = 250;

export interface CachedDownloadsOptions {
  engine: NetfsEngine;
  store: CacheStore;
  /** The sync folder: downloads pause while its filesystem has less than `minFreeRatio` free. */
  root: string;
  minFreeRatio?: number;
}

/**
 * The cache's aux data for a server version. Apache shows a tag as W/"x" for a second after a
 * change and as "x" after: the opaque part, size and date identify the version.
 */
export function auxOf(remote: Pick<RemoteEntry, 'etag' | 'size' | 'mtimeMs'>): CacheAux {
  return { etag: remote.etag === null ? null : remote.etag.replace(/^W\//, ''), lastModified: remote.mtimeMs, size: remote.size ?? 0 };
}

export class CachedDownloads implements DownloadPort {
  readonly #o: CachedDownloadsOptions;
  /** Bytes fetched from the server and reused from earlier interrupted downloads (for stats and tests). */
  fetched = 0;
  reused = 0;

  /** The last free-space reading of the sync folder's disk, and what was placed since. */
  #free: { at: number; ratio: number; blocksBytes: number; placed: number } | null = null;

  constructor(options: CachedDownloadsOptions) {
    this.#o = options;
  }

  /**
   * The free fraction of the sync folder's disk: a statfs at most every FREE_READING_MS, less
   * what was placed since; read afresh whenever the estimate is within twice the floor.
   */
  async #freeRatio(floor: number): Promise<number> {
    const r = this.#free;
    if (r !== null && Date.now() - r.at < FREE_READING_MS && r.blocksBytes > 0) {
      const estimate = r.ratio - r.placed / r.blocksBytes;
      if (estimate >= 2 * floor) return estimate;
    }
    const s = await statfs(this.#o.root);
    const ratio = s.blocks === 0 ? 1 : s.bavail / s.blocks;
    this.#free = { at: Date.now(), ratio, blocksBytes: s.blocks * s.bsize, placed: 0 };
    return ratio;
  }

  async fetchAndPlace(remote: RemoteEntry, dest: string, stillExpected: () => Promise<boolean>, signal?: AbortSignal, beforePlace?: (staged: StagedFile) => void): Promise<boolean> {
    const floor = this.#o.minFreeRatio ?? 0.01;
    const free = await this.#freeRatio(floor);
    if (free < floor) {
      throw new NetfsError(
        'INSUFFICIENT_STORAGE',
        `${remote.path}: download paused, the sync folder's disk has ${(free * 100).toFixed(2)} % free (under ${(floor * 100).toFixed(0)} %)`,
      );
    }
    if (remote.size === null) throw new NetfsError('PROTOCOL', `${remote.path}: the server did not say how big the file is`);
    if (this.#free !== null) this.#free.placed += remote.size;
    if (remote.size <= SMALL_STAGE_MAX) {
      const temp = await this.#o.store.smallStagingTemp(remote.path).catch(() => null);
      if (temp !== null) return this.#fetchSmall(remote as RemoteEntry & { size: number }, temp, dest, stillExpected, signal, beforePlace);
    }
    const obj = await beginStaging(this.#o.store, remote.path, auxOf(remote));
    try {
      try {
        const outcome = await this.#o.engine.stage(remote.path, {
          size: remote.size,
          expect: { etag: remote.etag, size: remote.size, mtimeMs: remote.mtimeMs },
          cache: obj,
          ...(signal === undefined ? {} : { signal }),
        });
        this.fetched += outcome.fetched;
        this.reused += outcome.reused;
      } catch (e) {
        // The server's file changed: what was staged is of no use. Anything else (a cut
        // connection, a kill) keeps it, so the next try fetches only what is missing.
        if (isNetfsError(e) && (e.code === 'CHANGED_ON_SERVER' || e.code === 'PRECONDITION_FAILED')) await cancelStaging(obj).catch(() => undefined);
        throw e;
      }
      if (!(await stillExpected())) return false;
      await placeStaged(obj, dest, { mtimeMs: remote.mtimeMs ?? Date.now(), ...(beforePlace === undefined ? {} : { beforeRename: beforePlace }) });
      return true;
    } finally {
      await obj.close().catch(() => undefined);
    }
  }

  async #fetchSmall(
    remote: RemoteEntry & { size: number },
    temp: string,
    dest: string,
    stillExpected: () => Promise<boolean>,
    signal?: AbortSignal,
    beforePlace?: (staged: StagedFile) => void,
  ): Promise<boolean> {
    const mtimeMs = remote.mtimeMs ?? Date.now();
    let placed = false;
    try {
      await this.#o.engine.download(remote.path, {
        size: remote.size,
        expect: { etag: remote.etag, size: remote.size, mtimeMs: remote.mtimeMs },
        target: temp,
        mode: 0o644,
        mtimeMs,
        ...(signal === undefined ? {} : { signal }),
      });
      this.fetched += remote.size;
      if (!(await stillExpected())) return false;
      if (beforePlace !== undefined) beforePlace(await stagedStat(temp));
      await placeFile(temp, dest, { mode: 0o644, mtime: new Date(mtimeMs) });
      placed = true;
      return true;
    } finally {
      if (!placed) await unlink(temp).catch(() => undefined);
    }
  }
}

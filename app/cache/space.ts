/**
 * Space management of one store (DESIGN §5; digest §5.6; behaviours 74-78): the user limit in
 * bytes and cachefilesd's thresholds on the cache filesystem, both enforced when space is
 * allocated (a cache write that grows an object's backing file), never by a periodic sweep.
 *
 *   object.write(s, e)  growth = bytes of blocks of [s, e) the file does not hold yet
 *     └─> allocate(object, growth, files)                       one at a time (Mutex)
 *           withdrawn? ───────────────────────────────────────> IO
 *           1. user limit (non-staging objects only)
 *              used + growth > limit ─> cull LRU (why 'limit') until it fits
 *              still over ────────────────────────────────────> INSUFFICIENT_STORAGE (nwr/ncr++)
 *           2. statfs: free blocks - in-flight - need, free files - files   (thresholds.ts)
 *              below cull, or culling and not yet at run ─> cull LRU (why 'blocks'|'files')
 *                                                            until both are at/above run
 *              below stop ────────────────────────────────> INSUFFICIENT_STORAGE (nwr/ncr++)
 *           charge: in-flight blocks += need (until the write ends), object's bytes += growth
 *
 *   used bytes = allocated bytes of objects not open (from the index, kept up to date here)
 *              + live figures of the objects open (or kept), as they report them
 *   staging objects: against the thresholds, not the limit (their bytes are counted apart)
 *
 * The limit counts this store's volume. Culled objects are unlinked at once (82), so statfs
 * sees their blocks free before the next check.
 */
import { statfs } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { CacheHealth } from './health.js';
import type { CacheCounters, CacheState, CullReason, FsInfo } from './inspect.js';
import { Mutex } from './locks.js';
import { DEFAULT_THRESHOLDS, mergeThresholds, nextCulling, spaceVerdict, type CacheThresholds, type FsSpace, type SpaceVerdict } from './thresholds.js';

const GiB = 1024 * 1024 * 1024;

/** The default user limit: the smaller of 10 GiB and 10 % of the cache filesystem (10 GiB when it reports no size). */
export function defaultLimit(fs: FsSpace): number {
  const disk = fs.blocks * fs.bsize;
  return disk > 0 ? Math.min(10 * GiB, Math.floor(disk / 10)) : 10 * GiB;
}

/** What the space manager asks of the store: LRU culling, and the graveyard emptied. */
export interface SpaceHost {
  /** Culls least-recently-used objects until `enough()` or none is left; the count culled. */
  cullUntil(why: CullReason, enough: () => Promise<boolean> | boolean, skipStaging: boolean): Promise<number>;
  /** Resolves when files buried so far are deleted (their blocks free). */
  drainGraveyard(): Promise<void>;
}

/** The in-flight charge of one allocation: `done()` when the write has ended. */
export interface SpaceGrant {
  done(): void;
}

const NO_GRANT: SpaceGrant = { done: () => {} };

export interface SpaceOptions {
  thresholds?: Partial<CacheThresholds>;
  /** The user limit in bytes (default: defaultLimit of the filesystem). */
  limitBytes?: number;
}

export function checkLimit(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new NetfsError('INVALID_ARGUMENT', `cache: the limit must be a whole number of bytes >= 0, not ${bytes}`);
  return bytes;
}

export class SpaceManager {
  #thresholds: CacheThresholds;
  #limit: number;
  #culling = false;
  #stopped = false;
  #inflightBlocks = 0;
  #lastFs: FsSpace | null;
  /** Allocated bytes of the objects not open, from the index. */
  #closed = { limited: 0, staging: 0 };
  /** Live figures of open (and kept) objects, by object id. */
  readonly #open = new Map<number, { bytes: number; staging: boolean }>();
  readonly #mutex = new Mutex();

  private constructor(
    readonly dir: string,
    readonly health: CacheHealth,
    readonly counters: CacheCounters,
    readonly host: SpaceHost,
    fs: FsSpace,
    options: SpaceOptions,
  ) {
    this.#thresholds = mergeThresholds(DEFAULT_THRESHOLDS, options.thresholds ?? {});
    this.#limit = options.limitBytes === undefined ? defaultLimit(fs) : checkLimit(options.limitBytes);
    this.#lastFs = fs;
  }

  static async create(dir: string, health: CacheHealth, counters: CacheCounters, host: SpaceHost, options: SpaceOptions = {}): Promise<SpaceManager> {
    const fs = await statfs(dir).catch((e: unknown) => {
      throw health.failure(e, `cache: statfs ${dir}`);
    });
    return new SpaceManager(dir, health, counters, host, fs, options);
  }

  get limit(): number {
    return this.#limit;
  }
  get thresholds(): CacheThresholds {
    return { ...this.#thresholds };
  }
  /** Allocated bytes that count against the limit (non-staging objects). */
  get used(): number {
    let n = this.#closed.limited;
    for (const o of this.#open.values()) if (!o.staging) n += o.bytes;
    return n;
  }
  get stagingBytes(): number {
    let n = this.#closed.staging;
    for (const o of this.#open.values()) if (o.staging) n += o.bytes;
    return n;
  }
  get inflightBlocks(): number {
    return this.#inflightBlocks;
  }

  get state(): CacheState {
    if (this.health.withdrawn !== null) return 'withdrawn';
    if (this.#stopped) return 'stopped';
    return this.#culling ? 'culling' : 'normal';
  }

  /** The allocated bytes of the objects not open, as the index has them now. */
  setClosedTotals(t: { limited: number; staging: number }): void {
    this.#closed = { ...t };
  }

  /** An object is open: its bytes are followed live from now on. */
  attach(id: number, bytes: number, staging: boolean): void {
    if (this.#open.has(id)) return;
    this.#bucket(staging, -bytes);
    this.#open.set(id, { bytes, staging });
  }

  /** An open object's allocated bytes or staging flag changed. */
  update(id: number, bytes: number, staging: boolean): void {
    this.#open.set(id, { bytes, staging });
  }

  /** An object is no longer open: `bytes` (what the index now holds for it) count as closed. */
  detach(id: number, bytes: number, staging: boolean): void {
    if (!this.#open.delete(id)) return;
    this.#bucket(staging, bytes);
  }

  /** A closed object's bytes left the cache (culled, discarded, swept). */
  freed(bytes: number, staging: boolean): void {
    this.#bucket(staging, -bytes);
  }

  #bucket(staging: boolean, delta: number): void {
    if (staging) this.#closed.staging = Math.max(0, this.#closed.staging + delta);
    else this.#closed.limited = Math.max(0, this.#closed.limited + delta);
  }

  /** Changes some thresholds; invalid values are refused and the old ones stay (74). */
  setThresholds(change: Partial<CacheThresholds>): CacheThresholds {
    this.#thresholds = mergeThresholds(this.#thresholds, change);
    return this.thresholds;
  }

  /** A new user limit; objects are culled at once down to it. Resolves with the number culled. */
  async setLimit(bytes: number): Promise<number> {
    checkLimit(bytes);
    return this.#mutex.run(async () => {
      this.#limit = bytes;
      return this.host.cullUntil('limit', () => this.used <= this.#limit, true);
    });
  }

  /**
   * Culls now: down to `targetBytes` (default: the limit) of non-staging bytes, then until the
   * filesystem is at/above its run limits if culling is on. Resolves with the number culled.
   */
  async cullNow(targetBytes?: number): Promise<number> {
    const target = Math.min(targetBytes === undefined ? this.#limit : checkLimit(targetBytes), this.#limit);
    return this.#mutex.run(async () => {
      let n = await this.host.cullUntil('manual', () => this.used <= target, true);
      let v = await this.#measure(0, 0);
      this.#note(v);
      if (this.#culling) {
        n += await this.host.cullUntil(v.short ?? 'blocks', async () => (v = await this.#measure(0, 0)).aboveRun, false);
        this.#note(v);
      }
      return n;
    });
  }

  /**
   * Space for `bytes` more bytes (and `files` new files) of object `id`: culls as needed,
   * refuses with INSUFFICIENT_STORAGE. The grant's done() ends the in-flight charge.
   */
  allocate(id: number, staging: boolean, bytes: number, files: number): Promise<SpaceGrant> {
    if (bytes <= 0 && files <= 0) return Promise.resolve(NO_GRANT);
    return this.#mutex.run(async () => {
      this.health.check('cache write');
      if (!staging && bytes > 0 && this.used + bytes > this.#limit) {
        await this.host.cullUntil('limit', () => this.used + bytes <= this.#limit, true);
        if (this.used + bytes > this.#limit) {
          this.#refused(files);
          throw new NetfsError('INSUFFICIENT_STORAGE', `cache: the limit of ${this.#limit} bytes is reached (${this.used} allocated, ${bytes} more asked) and nothing more can be culled`);
        }
      }
      const bsize = this.#lastFs?.bsize ?? 4096;
      const need = Math.ceil(bytes / bsize);
      let v = await this.#measure(need, files);
      if (v.level !== 'ok' || (this.#culling && !v.aboveRun)) {
        this.#culling = true;
        await this.host.drainGraveyard();
        await this.host.cullUntil(v.short ?? 'blocks', async () => (v = await this.#measure(need, files)).aboveRun, false);
      }
      this.#note(v);
      if (v.level === 'stop') {
        this.#refused(files);
        throw new NetfsError(
          'INSUFFICIENT_STORAGE',
          `cache: no space for ${bytes} bytes in ${this.dir}: ${v.availBlocks} blocks and ${v.availFiles} files would be free, below the stop limits (${this.#thresholds.bstop}% = ${v.limits.bstop} blocks, ${this.#thresholds.fstop}% = ${v.limits.fstop} files)`,
        );
      }
      this.#stopped = false;
      this.#inflightBlocks += need;
      const mine = this.#open.get(id);
      if (mine !== undefined) mine.bytes += bytes;
      let ended = false;
      return {
        done: () => {
          if (ended) return;
          ended = true;
          this.#inflightBlocks -= need;
        },
      };
    });
  }

  /** The kernel said ENOSPC: writes are refused until a check finds space above cull again. */
  full(): void {
    this.#stopped = true;
    this.#culling = true;
  }

  /** Re-runs the space check with nothing asked (as the daemon's status read does); null when statfs fails. */
  async status(): Promise<FsInfo | null> {
    try {
      const v = await this.#measure(0, 0);
      this.#note(v);
      const fs = this.#lastFs!;
      return {
        bsize: fs.bsize,
        blocks: fs.blocks,
        bavail: fs.bavail,
        files: fs.files,
        ffree: fs.ffree,
        freeBlocksPct: fs.blocks > 0 ? (100 * fs.bavail) / fs.blocks : 0,
        freeFilesPct: fs.files > 0 ? (100 * fs.ffree) / fs.files : 0,
      };
    } catch {
      return null;
    }
  }

  async #measure(needBlocks: number, files: number): Promise<SpaceVerdict> {
    const fs = await statfs(this.dir).catch((e: unknown) => {
      throw this.health.failure(e, `cache: statfs ${this.dir}`);
    });
    this.#lastFs = fs;
    return spaceVerdict(fs, this.#thresholds, this.#inflightBlocks, needBlocks, files);
  }

  /** The state after a check: culling per has_space; stopped while below stop, until above cull. */
  #note(v: SpaceVerdict): void {
    this.#culling = nextCulling(this.#culling, v);
    if (v.level === 'stop') this.#stopped = true;
    else if (v.level === 'ok') this.#stopped = false;
  }

  #refused(files: number): void {
    if (files > 0) this.counters.noSpace.ncr++;
    else this.counters.noSpace.nwr++;
  }
}

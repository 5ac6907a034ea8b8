/**
 * The culler: cachefilesd's LRU culling run in-process, over the index instead of a directory
 * scan (digest §5.6 `cull`, §5.7; behaviours 79, 81-83; §4.5 H).
 *
 *   ready table: up to 2^tableLog2 (default 2^12 = 4096) candidates from the index, oldest
 *   atime first (staging objects after all others), each with the atime it had when recorded;
 *   refilled from the index when it is down to half of what the last refill loaded, or has
 *   nothing left to offer - in both cases only if an object was released since (poke) or the
 *   last refill found candidates (81; no 30 s rescan timer: culling runs when space is allocated)
 *
 *   cullUntil(why, enough)   while !enough(): take the oldest untried candidate -> cullOne
 *
 *   cullOne(candidate)       under the key's lock (a lookup of the same key waits, §4.5 H)
 *     key in use (open) ................................ 'busy'   (EBUSY: never culled, 79)
 *     row gone, or another object now (new id) ......... 'stale'  (ESTALE: ignored, 83)
 *     atime moved since it was recorded, or DIRTY ...... 'used'   (skipped, 79)
 *     released and kept for reuse (73) ................. the keep ends first (descriptor closed)
 *     else: row deleted (one transaction) -> files unlinked (82) -> 'culled', counted once
 *
 * The row goes before the file: a crash in between leaves an orphan file, which the sweep at
 * the next start removes (C8); a lookup that waited on the lock finds no row and starts empty.
 */
import { readdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NetfsError } from '../api/errors.js';
import type { CacheHealth } from './health.js';
import type { IndexDb, LruRow } from './index-db.js';
import type { CacheCounters, CullCandidate, CullReason, CullRecord } from './inspect.js';
import { objectPath } from './layout.js';
import type { KeyedMutex } from './locks.js';

export type CullResult = 'culled' | 'busy' | 'stale' | 'used';

/** Recent culls kept for inspection. */
const RECENT = 64;

/** What the culler needs of the store. */
export interface CullHost {
  readonly dir: string;
  readonly db: IndexDb;
  readonly volumeId: number;
  readonly keyLock: KeyedMutex;
  readonly health: CacheHealth;
  readonly counters: CacheCounters;
  /** 'busy': open by a user; 'kept': released, kept for reuse; 'free': not open. */
  liveState(key: string): 'busy' | 'kept' | 'free';
  /** Ends the keep of a released object (its descriptor closes; it is no longer open). */
  expire(key: string): Promise<void>;
  /** A closed object's bytes left the cache. */
  freed(bytes: number, staging: boolean): void;
}

export class Culler {
  readonly tableSize: number;
  /** Index queries that (re)filled the table (for tests of 81). */
  refills = 0;
  readonly #host: CullHost;
  #ready: LruRow[] = [];
  #loaded = 0;
  /** Something may be cullable that the table does not show (cleared by a refill that found nothing). */
  #maybe = true;
  readonly #recent: CullRecord[] = [];

  constructor(host: CullHost, tableLog2 = 12) {
    if (!Number.isInteger(tableLog2) || tableLog2 < 12 || tableLog2 > 20) {
      throw new NetfsError('INVALID_ARGUMENT', `cache: the cull table size must be 2^12 .. 2^20 entries, not 2^${tableLog2}`);
    }
    this.#host = host;
    this.tableSize = 2 ** tableLog2;
  }

  /** Candidates in the table now (oldest first). */
  get table(): readonly LruRow[] {
    return this.#ready;
  }

  get recent(): CullRecord[] {
    return this.#recent.map((r) => ({ ...r }));
  }

  /** An object was released or changed: the index may hold candidates the table lacks. */
  poke(): void {
    this.#maybe = true;
  }

  /** Culls the least recently used objects until `enough()` holds or no candidate is left. */
  async cullUntil(why: CullReason, enough: () => Promise<boolean> | boolean, skipStaging: boolean): Promise<number> {
    const tried = new Set<number>();
    let culled = 0;
    while (!(await enough())) {
      const c = this.#take(tried, skipStaging);
      if (c === null) break;
      tried.add(c.id);
      if ((await this.cullOne(c, why)) === 'culled') culled++;
    }
    return culled;
  }

  /** The next `n` objects culling would take, in order (those in use left out). */
  preview(n: number, kept: (key: string) => boolean, busy: (key: string) => boolean): CullCandidate[] {
    const out: CullCandidate[] = [];
    for (const r of this.#host.db.lruCandidates(this.#host.volumeId, n + 64)) {
      if (out.length >= n) break;
      if (busy(r.key)) continue;
      out.push({ key: r.key, bytes: r.allocated, atime: r.atime, staging: r.staging === 1, kept: kept(r.key) });
    }
    return out;
  }

  /** The daemon's `cull <name>` for one key: culled, busy or stale. */
  cullKey(key: string, why: CullReason = 'manual'): Promise<CullResult> {
    return this.#locked(key, async () => {
      const row = this.#host.db.getObject(this.#host.volumeId, key);
      if (row === undefined || (row.has_file === 0 && row.allocated === 0)) {
        this.#host.counters.cullSkips.stale++;
        return 'stale';
      }
      return this.#cullLocked({ id: row.id, key, name: row.name, atime: row.atime, allocated: row.allocated, staging: row.staging }, why, false);
    });
  }

  /** Culls one recorded candidate (see the header). */
  cullOne(c: LruRow, why: CullReason): Promise<CullResult> {
    return this.#locked(c.key, () => this.#cullLocked(c, why, true));
  }

  #locked(key: string, fn: () => Promise<CullResult>): Promise<CullResult> {
    const h = this.#host;
    h.health.check(`cull ${key}`);
    return h.keyLock.run(key, fn).catch((e: unknown) => {
      throw h.health.failure(e, `cache: cull ${key}`);
    });
  }

  async #cullLocked(c: LruRow, why: CullReason, checkAtime: boolean): Promise<CullResult> {
    const h = this.#host;
    const live = h.liveState(c.key);
    if (live === 'busy') {
      h.counters.cullSkips.busy++;
      return 'busy';
    }
    let row = h.db.getObjectById(c.id);
    if (row === undefined || row.key !== c.key || row.volume_id !== h.volumeId) {
      h.counters.cullSkips.stale++;
      return 'stale';
    }
    if (row.dirty === 1 || (checkAtime && row.atime !== c.atime)) {
      h.counters.cullSkips.used++;
      return 'used';
    }
    if (live === 'kept') {
      await h.expire(c.key);
      row = h.db.getObjectById(c.id) ?? row;
    }
    h.db.deleteObject(row.id);
    h.freed(row.allocated, row.staging === 1);
    await unlinkObjectFiles(h.dir, row.name);
    h.counters.noSpace.cull++;
    this.#recent.push({ key: row.key, bytes: row.allocated, at: Date.now(), why });
    if (this.#recent.length > RECENT) this.#recent.splice(0, this.#recent.length - RECENT);
    return 'culled';
  }

  /**
   * The oldest candidate not tried yet in this pass, out of the table. The table is refilled from
   * the index when down to half, or when it has nothing left to offer and something may have
   * become cullable since the last refill (an object was released: poke()).
   */
  #take(tried: ReadonlySet<number>, skipStaging: boolean): LruRow | null {
    const pick = (): number => this.#ready.findIndex((r) => !tried.has(r.id) && !(skipStaging && r.staging === 1));
    if (this.#maybe && this.#ready.length <= this.#loaded / 2) this.#refill();
    let i = pick();
    if (i < 0 && this.#maybe) {
      this.#refill();
      i = pick();
    }
    if (i < 0) {
      // Everything the index offers was tried: only a release (poke) can change that.
      this.#maybe = false;
      return null;
    }
    return this.#ready.splice(i, 1)[0]!;
  }

  #refill(): void {
    const h = this.#host;
    this.refills++;
    this.#ready = h.db.lruCandidates(h.volumeId, this.tableSize);
    this.#loaded = this.#ready.length;
  }
}

/** Unlinks an object's file and any temps of it (82: plain files are unlinked, not buried). */
export async function unlinkObjectFiles(dir: string, name: string): Promise<void> {
  const final = objectPath(dir, name);
  const folder = dirname(final);
  const entries = await readdir(folder).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [] as string[];
    throw e;
  });
  for (const e of entries) {
    if (e !== name && !e.startsWith(`${name}.tmp`)) continue;
    await unlink(`${folder}/${e}`).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
  }
}

/**
 * The cache store: one cache folder, one volume (account) per store, one cookie per remote file
 * (DESIGN §5; digest §5.1, §5.2, §5.6-§5.8; behaviours 64-66, 73-85).
 *
 *   CacheStore.open(dir, { volume, limitBytes?, thresholds?, keepAliveMs? })
 *     mkdir objects/ graveyard/ ; index.sqlite (WAL) ; graveyard reaper starts
 *     sweep (sweep.ts, C8): orphans and this volume's temps -> graveyard, crash leftovers emptied
 *     space (space.ts): user limit + free-space thresholds, checked when a write allocates
 *   store.openObject(key = remote path, aux = { etag, lastModified, size })   under the key's
 *     withdrawn              -> IO (the caller goes on uncached)           lock (a cull of the
 *     kept (released < 10 s) -> its open descriptor is taken over (73)      same key waits, H)
 *     open already           -> same object (aux differs: invalidated first)
 *     no row                 -> new empty object
 *     row DIRTY              -> files to graveyard, empty object   (65: never served)
 *     row DIRTY and staging  -> resumed: the collected, CRC-checked ranges are kept (a staged
 *                               download holds only the server's bytes; staging.ts)
 *     aux differs            -> files to graveyard, empty object   (64)
 *     file missing or short  -> files to graveyard, empty object
 *     else                   -> adopt content, extents, CRCs; atime = now (80)
 *   last close: committed, then kept keepAliveMs (default 10 s) with its descriptor; reopened in
 *     that time it is reused, else the keep expires (descriptor closed). Culling may end a keep.
 *   inspection: inspect(), listObjects(), cullCandidates(n), cull(key), cullNow(), setLimit(),
 *     setThresholds(), verify() (inspect.ts has the types)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NetfsError } from '../api/errors.js';
import type { BackingFile } from './backing-file.js';
import { Culler, type CullResult } from './cull.js';
import { CacheHealth } from './health.js';
import { IndexDb, type ObjectRow } from './index-db.js';
import { objectInfos, verifyClosed } from './inspect-build.js';
import { newCounters, type CacheCounters, type CacheInspection, type CacheObjectInfo, type CacheState, type CullCandidate, type VerifyReport } from './inspect.js';
import { GRAVEYARD_DIR, Graveyard, INDEX_FILE, OBJECTS_DIR, STAGING_DIR, objectName, objectPath, tempPath } from './layout.js';
import { KeyedMutex } from './locks.js';
import { CacheObject, type CacheAux, type ObjectEnv } from './object.js';
import { SpaceManager } from './space.js';
import { sweepStore } from './sweep.js';
import type { CacheThresholds } from './thresholds.js';

export interface CacheStoreOptions {
  /** One per account: printable, no '/', not starting with '.', at most 254 characters. */
  volume: string;
  /** Temp files are named `<name>.tmp` (no random suffix), so a test can aim a fault at one. */
  testPredictableNames?: boolean;
  /** Cache block size (default 4096). */
  blockSize?: number;
  /** Content tracking granule (default 65536), a multiple of the block size. */
  granule?: number;
  /** The user limit in bytes (default: the smaller of 10 GiB and 10 % of the cache filesystem). */
  limitBytes?: number;
  /** Free-space thresholds in percent (default run 7, cull 5, stop 1, for blocks and files). */
  thresholds?: Partial<CacheThresholds>;
  /** How long a released object keeps its descriptor for reuse, in ms (default 10000; 0: none). */
  keepAliveMs?: number;
  /** log2 of the culler's candidate table, 12..20 (default 12: 4096 entries). */
  cullTableLog2?: number;
}

/** Why openObject found the object the way it did. */
export type OpenOutcome = 'new' | 'adopted' | 'resumed' | 'stale-aux' | 'dirty' | 'missing-file' | 'already-open' | 'reused';

/** How long a released cookie keeps its resources (fscache's LRU, 10 s). */
export const KEEP_ALIVE_MS = 10_000;

/** Volumes open in this process (a volume in use cannot be acquired again, like -EBUSY). */
const openVolumes = new Set<string>();

export class CacheStore {
  readonly dir: string;
  readonly volume: string;
  /** How each openObject call found its object, in order (for tests and stats). */
  readonly outcomes: { key: string; outcome: OpenOutcome }[] = [];
  #db: IndexDb;
  #volumeId: number;
  #graveyard: Graveyard;
  #env: ObjectEnv;
  /** Objects open, and released ones kept for reuse (obj.kept). */
  #open = new Map<string, CacheObject>();
  /** Where smallStagingTemp's files go (created, and emptied, at open). */
  get #stagingDir(): string {
    return join(this.dir, STAGING_DIR, this.volume);
  }
  #closed = false;
  readonly #health: CacheHealth;
  readonly #counters: CacheCounters;
  readonly #space: SpaceManager;
  readonly #culler: Culler;
  readonly #keyLock = new KeyedMutex();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #keepAliveMs: number;

  private constructor(dir: string, volume: string, db: IndexDb, graveyard: Graveyard, options: CacheStoreOptions, health: CacheHealth, counters: CacheCounters, space: SpaceManager) {
    this.dir = dir;
    this.volume = volume;
    this.#db = db;
    this.#volumeId = db.volumeId(volume);
    this.#graveyard = graveyard;
    this.#health = health;
    this.#counters = counters;
    this.#space = space;
    this.#keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
    this.#culler = new Culler(
      {
        dir,
        db,
        volumeId: this.#volumeId,
        keyLock: this.#keyLock,
        health,
        counters,
        liveState: (key) => {
          const obj = this.#open.get(key);
          return obj === undefined ? 'free' : obj.kept ? 'kept' : 'busy';
        },
        expire: (key) => this.#expire(key, 'drp'),
        freed: (bytes, staging) => space.freed(bytes, staging),
      },
      options.cullTableLog2,
    );
    this.#env = {
      dir,
      db,
      graveyard,
      predictableNames: options.testPredictableNames === true,
      blockSize: options.blockSize ?? 4096,
      granule: options.granule ?? 65536,
      released: (obj) => {
        if (this.#open.get(obj.key) === obj) this.#open.delete(obj.key);
        let row: ObjectRow | undefined;
        try {
          row = db.getObjectById(obj.id);
        } catch {
          row = undefined;
        }
        space.detach(obj.id, row?.allocated ?? 0, row?.staging === 1);
        this.#culler.poke();
      },
      keep: (obj) => this.#keep(obj),
      space,
      health,
      counters,
    };
    health.onWithdraw(() => {
      for (const obj of [...this.#open.values()]) if (obj.kept) void this.#expire(obj.key, 'drp').catch(() => {});
    });
  }

  static async open(dir: string, options: CacheStoreOptions): Promise<CacheStore> {
    const volume = options.volume;
    if (volume.length === 0 || volume.length > 254 || volume.startsWith('.') || volume.includes('/') || [...volume].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      throw new NetfsError('INVALID_ARGUMENT', `cache: bad volume name ${JSON.stringify(volume)}`);
    }
    const bs = options.blockSize ?? 4096;
    const g = options.granule ?? 65536;
    if (!(bs > 0 && g > 0 && g % bs === 0)) throw new NetfsError('INVALID_ARGUMENT', `cache: granule ${g} is not a multiple of block ${bs}`);
    const keepAlive = options.keepAliveMs ?? KEEP_ALIVE_MS;
    if (!Number.isFinite(keepAlive) || keepAlive < 0) throw new NetfsError('INVALID_ARGUMENT', `cache: bad keepAliveMs ${keepAlive}`);
    const abs = resolve(dir);
    const lock = `${abs}\0${volume}`;
    if (openVolumes.has(lock)) throw new NetfsError('CONFLICT', `cache: volume ${volume} in ${abs} is already open`);
    await mkdir(join(abs, OBJECTS_DIR), { recursive: true });
    await mkdir(join(abs, GRAVEYARD_DIR), { recursive: true });
    const health = new CacheHealth(abs);
    const counters = newCounters();
    const graveyard = new Graveyard(abs);
    let store: CacheStore | undefined;
    const space = await SpaceManager.create(
      abs,
      health,
      counters,
      {
        cullUntil: (why, enough, skipStaging) => (store === undefined ? Promise.resolve(0) : store.#culler.cullUntil(why, enough, skipStaging)),
        drainGraveyard: () => graveyard.drain(),
      },
      { ...(options.thresholds === undefined ? {} : { thresholds: options.thresholds }), ...(options.limitBytes === undefined ? {} : { limitBytes: options.limitBytes }) },
    );
    let db: IndexDb;
    try {
      db = new IndexDb(join(abs, INDEX_FILE));
    } catch (e) {
      if (e instanceof NetfsError) throw e;
      throw new NetfsError('IO', `cache: cannot open the index in ${abs}: ${String(e)}`, { cause: e });
    }
    openVolumes.add(lock);
    try {
      store = new CacheStore(abs, volume, db, graveyard, options, health, counters, space);
      await graveyard.init();
      await store.#sweep();
    } catch (e) {
      openVolumes.delete(lock);
      db.close();
      throw e;
    }
    return store;
  }

  /**
   * The cache object of one remote file, checked against its current aux data. Withdrawn: IO
   * at once (the caller goes on without a cache object).
   */
  async openObject(key: string, aux: CacheAux): Promise<CacheObject> {
    if (this.#closed) throw new NetfsError('IO', 'cache: store is closed');
    if (!Number.isSafeInteger(aux.size) || aux.size < 0) throw new NetfsError('INVALID_ARGUMENT', `cache ${key}: bad size ${aux.size}`);
    this.#counters.acquire.n++;
    if (this.#health.withdrawn !== null) {
      this.#counters.withdrawnOps++;
      throw this.#health.withdrawnError(`cache lookup ${key}`);
    }
    const obj = await this.#keyLock.run(key, () => this.#lookup(key, aux)).catch((e: unknown) => {
      throw this.#health.failure(e, `cache lookup ${key}`);
    });
    this.#counters.acquire.ok++;
    return obj;
  }

  async #lookup(key: string, aux: CacheAux): Promise<CacheObject> {
    if (this.#closed) throw new NetfsError('IO', 'cache: store is closed');
    const live = this.#open.get(key);
    let handle: BackingFile | null = null;
    if (live !== undefined && live.kept) {
      // (73) Released within keepAliveMs: the next object takes over its open descriptor.
      this.#unkeep(key, 'rmv');
      handle = live.handOff();
      this.#open.delete(key);
      const was = this.#db.getObjectById(live.id);
      this.#space.detach(live.id, was?.allocated ?? 0, was?.staging === 1);
    } else if (live !== undefined) {
      live.retain();
      this.#db.touch(live.id);
      if (!sameAux(live.aux, aux)) {
        await live.replaceAux(aux);
        this.outcomes.push({ key, outcome: 'stale-aux' });
        return live;
      }
      this.outcomes.push({ key, outcome: 'already-open' });
      return live;
    }
    const name = objectName(this.volume, key);
    let row = this.#db.getObject(this.#volumeId, key);
    let outcome: OpenOutcome;
    this.#counters.lookups.n++;
    if (row === undefined) {
      row = this.#db.insertObject(this.#volumeId, key, name, aux);
      outcome = 'new';
      this.#counters.lookups.miss++;
    } else {
      outcome = await this.#check(row, aux);
      if (outcome === 'adopted' || outcome === 'resumed') {
        this.#db.touch(row.id);
        this.#counters.lookups.hit++;
        if (handle !== null && outcome === 'adopted') outcome = 'reused';
      } else {
        await handle?.retire();
        handle = null;
        this.#counters.lookups.miss++;
        this.#counters.lookups.discarded++;
        // The index first: a crash before the files go leaves orphans (swept at start), never a
        // row that points at a missing file.
        this.#db.resetObject(row.id, aux);
        this.#space.freed(row.allocated, row.staging === 1);
        await this.#bury(row.name);
      }
      row = this.#db.getObject(this.#volumeId, key)!;
    }
    this.outcomes.push({ key, outcome });
    if (outcome !== 'reused' || row.has_file !== 1) {
      await handle?.retire();
      handle = null;
    }
    const obj = new CacheObject(this.#env, row, this.#db.extents(row.id), this.#db.crcs(row.id), handle);
    this.#open.set(key, obj);
    this.#space.attach(row.id, row.allocated, row.staging === 1);
    return obj;
  }

  /** The last user closed `obj`: keep it (descriptor open) for keepAliveMs, unless closing (73). */
  #keep(obj: CacheObject): boolean {
    if (this.#closed || this.#keepAliveMs <= 0 || this.#health.withdrawn !== null) return false;
    const key = obj.key;
    const timer = setTimeout(() => {
      void this.#keyLock.run(key, () => this.#expire(key, 'exp')).catch(() => {});
    }, this.#keepAliveMs);
    timer.unref();
    this.#timers.set(key, timer);
    this.#counters.lru.n++;
    this.#culler.poke();
    return true;
  }

  #unkeep(key: string, how: 'rmv' | 'exp' | 'drp'): void {
    const timer = this.#timers.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(key);
    this.#counters.lru.n--;
    this.#counters.lru[how]++;
  }

  /** Ends the keep of a released object (the caller holds the key's lock, or the store closes). */
  async #expire(key: string, how: 'exp' | 'drp'): Promise<void> {
    const obj = this.#open.get(key);
    if (obj === undefined || !obj.kept) return;
    this.#unkeep(key, how);
    await obj.expire();
  }

  // ---- space, culling and inspection (inspect.ts has the types) ----

  get state(): CacheState {
    return this.#space.state;
  }

  /** A copy of the counters. */
  get counters(): CacheCounters {
    return structuredClone(this.#counters);
  }

  /** The culler (its table size and refills, for tests of behaviour 81). */
  get culler(): Culler {
    return this.#culler;
  }

  /** The whole picture: state (after a fresh space check), totals, limit, thresholds, counters. */
  async inspect(): Promise<CacheInspection> {
    const fs = await this.#space.status();
    let infos: CacheObjectInfo[] = [];
    try {
      infos = this.listObjects();
    } catch {
      // A failing index (the cache is withdrawn then): totals from what is known.
    }
    let open = 0;
    let kept = 0;
    for (const o of this.#open.values()) if (o.kept) kept++;
    else open++;
    const w = this.#health.withdrawn;
    return {
      dir: this.dir,
      volume: this.volume,
      state: this.#space.state,
      withdrawn: w === null ? null : { ...w },
      totals: {
        objects: infos.length,
        open,
        kept,
        allocatedBytes: this.#space.used + this.#space.stagingBytes,
        stagingBytes: this.#space.stagingBytes,
        storedBytes: infos.reduce((n, i) => n + i.storedBytes, 0),
      },
      limit: { bytes: this.#space.limit, usedBytes: this.#space.used },
      thresholds: this.#space.thresholds,
      fs,
      counters: this.counters,
      recentCulls: this.#culler.recent,
    };
  }

  /** Every object of the volume: extents over its size, stored and allocated bytes, flags. */
  listObjects(): CacheObjectInfo[] {
    return objectInfos(this.#db, this.#volumeId, this.#open, this.#env.granule);
  }

  /** The next `n` objects culling would remove, in order (objects in use are never culled). */
  cullCandidates(n = 10): CullCandidate[] {
    return this.#culler.preview(
      n,
      (key) => this.#open.get(key)?.kept === true,
      (key) => {
        const o = this.#open.get(key);
        return o !== undefined && !o.kept;
      },
    );
  }

  /** Culls one object now (the daemon's `cull <name>`): 'culled', 'busy' (open) or 'stale' (none). */
  cull(key: string): Promise<CullResult> {
    return this.#culler.cullKey(key, 'manual');
  }

  /** Culls LRU objects down to `targetBytes` (default: the limit), and to the run thresholds. */
  cullNow(targetBytes?: number): Promise<number> {
    return this.#space.cullNow(targetBytes);
  }

  /** A new user limit in bytes; objects are culled down to it at once. Resolves with the number culled. */
  setLimit(bytes: number): Promise<number> {
    return this.#space.setLimit(bytes);
  }

  /** Changes free-space thresholds; values breaking 0 <= stop < cull < run < 100 are refused (74). */
  setThresholds(change: Partial<CacheThresholds>): CacheThresholds {
    return this.#space.setThresholds(change);
  }

  /**
   * Re-checks every servable granule's CRC and the index against the files; bad objects are
   * invalidated (emptied, files to the graveyard), orphan files removed.
   */
  async verify(): Promise<VerifyReport> {
    this.#health.check('cache verify');
    const report: VerifyReport = { objects: 0, granules: 0, bad: [], orphans: 0 };
    const checked = { n: 0 };
    try {
      for (const row of this.#db.allObjects(this.#volumeId)) {
        report.objects++;
        await this.#keyLock.run(row.key, async () => {
          const obj = this.#open.get(row.key);
          if (obj !== undefined) {
            const problem = await obj.verifyContent(checked);
            if (problem !== null) report.bad.push({ key: row.key, reason: problem });
            return;
          }
          const cur = this.#db.getObjectById(row.id);
          if (cur === undefined) return;
          const problem = await verifyClosed(this.dir, this.#db, cur, this.#env.granule, checked);
          if (problem === null) return;
          report.bad.push({ key: cur.key, reason: problem });
          this.#db.resetObject(cur.id, { etag: cur.etag, lastModified: cur.last_modified, size: cur.object_size });
          this.#space.freed(cur.allocated, cur.staging === 1);
          await this.#bury(cur.name);
          this.#counters.invals.n++;
        });
      }
      const live = new Set([...this.#open.values()].map((o) => objectName(this.volume, o.key)));
      const swept = await sweepStore(this.dir, this.#db, this.#volumeId, this.#graveyard, live);
      this.#space.freed(swept.freed.limited, false);
      this.#space.freed(swept.freed.staging, true);
      report.orphans = swept.orphans;
      for (const key of [...swept.dirty, ...swept.missing]) report.bad.push({ key, reason: 'index and store disagreed' });
    } catch (e) {
      throw this.#health.failure(e, 'cache verify');
    }
    report.granules = checked.n;
    return report;
  }

  /**
   * A temp file for a synced download too small to be worth an object: fetched in one GET,
   * there is nothing to resume, so no index row is written for it (four commits fewer per file).
   * It lives in the cache's staging folder (same filesystem as the objects; everything there is
   * buried at the next open, so a crash leaves nothing behind) and is renamed onto the synced
   * file (staging.ts placeFile). Null — stage through an object instead — when the key has an
   * object (cached bytes to reuse, or a staged download of an earlier run) or the cache is not in
   * its normal state (culling, stopped or withdrawn: the space rules apply).
   */
  async smallStagingTemp(key: string): Promise<string | null> {
    if (this.#closed || this.#health.withdrawn !== null || this.#space.state !== 'normal') return null;
    if (this.#open.has(key) || this.#db.getObject(this.#volumeId, key) !== undefined) return null;
    return join(this.#stagingDir, `${randomBytes(8).toString('hex')}.tmp`);
  }

  /** Backing file path of a key (tests). */
  objectFilePath(key: string): string {
    return objectPath(this.dir, objectName(this.volume, key));
  }

  /** Temp file path of a key when testPredictableNames is set (tests). */
  tempFilePath(key: string): string {
    return tempPath(this.dir, objectName(this.volume, key), true);
  }

  /** Resolves when the graveyard has been emptied of everything buried so far. */
  drainGraveyard(): Promise<void> {
    return this.#graveyard.drain();
  }

  /** Commits and closes every open object, lets the graveyard empty, closes the index. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const obj of [...this.#open.values()]) {
      if (obj.kept) {
        await this.#expire(obj.key, 'drp').catch(() => {});
        continue;
      }
      while (obj.users > 1) await obj.close();
      await obj.close().catch(() => {});
    }
    await this.#graveyard.drain();
    if (this.#health.withdrawn === null) {
      try {
        this.#db.markClean(this.#volumeId);
      } catch {
        // Not marked: the next open sweeps, as after a crash.
      }
    }
    this.#db.close();
    openVolumes.delete(`${this.dir}\0${this.volume}`);
  }

  /** Stops as a killed process would: descriptors and index closed, nothing committed (tests). */
  async abandonForTesting(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const obj of this.#open.values()) await obj.abandon();
    this.#open.clear();
    await this.#graveyard.drain();
    this.#db.close();
    openVolumes.delete(`${this.dir}\0${this.volume}`);
  }

  async #check(row: ObjectRow, aux: CacheAux): Promise<OpenOutcome> {
    if (row.dirty === 1 && row.staging !== 1) return 'dirty';
    if (!sameAux({ etag: row.etag, lastModified: row.last_modified, size: row.object_size }, aux)) return 'stale-aux';
    if (row.has_file === 1) {
      const st = await stat(objectPath(this.dir, row.name)).catch(() => null);
      if (st === null || !st.isFile() || st.size < row.backing_size) return 'missing-file';
    } else if (row.backing_size > 0) return 'missing-file';
    return row.dirty === 1 ? 'resumed' : 'adopted';
  }

  /** The object's file and any temps of it go to the graveyard. */
  async #bury(name: string): Promise<void> {
    const final = objectPath(this.dir, name);
    const dir = join(final, '..');
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const e of entries) if (e === name || e.startsWith(`${name}.tmp`)) await this.#graveyard.bury(join(dir, e));
  }

  /** The staging folder emptied; C8 (sweep.ts) unless the last close was clean; the space totals from the index. */
  async #sweep(): Promise<void> {
    await mkdir(this.#stagingDir, { recursive: true });
    for (const name of await readdir(this.#stagingDir)) await this.#graveyard.bury(join(this.#stagingDir, name));
    // After a clean close the index and the store agree: reading every object folder (1.5 s at
    // 50,000 objects) is only needed after a crash. verify() sweeps on demand either way.
    if (!this.#db.takeClean(this.#volumeId)) await sweepStore(this.dir, this.#db, this.#volumeId, this.#graveyard, new Set());
    this.#space.setClosedTotals(this.#db.allocatedTotals(this.#volumeId));
  }
}

function sameAux(a: CacheAux, b: CacheAux): boolean {
  return a.etag === b.etag && a.lastModified === b.lastModified && a.size === b.size;
}

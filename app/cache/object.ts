/**
 * One cache object (cookie): a backing file plus its content state, the engine's CacheObjectIo
 * (digest §5.2-§5.5; behaviours 65-72).
 *
 *   write(s, views)  --tx: dirty=1, [s,e) leaves the committed ranges-->  pwrite (+ zero pad
 *                    to the block end at EOF) into the backing file, or a new <name>.tmp file
 *   collectWrite(s, len)  zero junk after a partial tail (69) -> CRC each granule now whole
 *                    -> link <name>.tmp to <name> (66) -> tx: extents, CRCs, content, dirty=0
 *   read(s, bufs)    whole visible granules only; CRC checked; mismatch -> IO + invalidate
 *   invalidate       generation++ (reads in flight end stale), file -> graveyard, empty
 *   handOver(place)  staging (staging.ts): whole object, sole user -> fsync, cut to the object
 *                    size -> place(path) moves it out (object closed, row dropped) or copies it
 *
 *   space (space.ts): a write that grows the file asks env.space first (may cull, may refuse
 *                    with INSUFFICIENT_STORAGE, nothing changed then); allocated = bytes of the
 *                    blocks written into the current file, on record with every commit
 *   failure (health.ts): an I/O error of the backing store withdraws the cache; from then on
 *                    occupancy is empty, read/write/collectWrite throw IO, nothing touches disk
 *   last close       commits; the store may keep the object (and its descriptor) for reuse (73)
 *
 *   content: NO_DATA --first collect at 0--> ALL --collect leaving a hole--> MAP (stays MAP)
 *   committed: collected byte ranges (<= object size); visible: the whole granules of them
 *   backing size: committed size of the file, whole blocks, max end of a collected write
 */
import { crc32 } from 'node:zlib';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NetfsError } from '../api/errors.js';
import type { CacheInvalidateReason, CacheObjectIo, OccupancyExtent } from '../netfs/cache-api.js';
import { BackingFile, ioError } from './backing-file.js';
import { addRange, coversRange, granuleRange, granulesOverlapping, occupancy, removeRange, roundUp, visibleRanges, type Range } from './extents.js';
import { backingFailure, type CacheHealth } from './health.js';
import { CONTENT, type ContentType, type IndexDb, type ObjectRow } from './index-db.js';
import type { CacheCounters } from './inspect.js';
import { fanoutDir, objectPath, tempPath, type Graveyard } from './layout.js';
import { checkGranules } from './verify.js';

// CRC32: node:zlib's crc32 (Node >= 20.15; package.json requires >= 20.19), no table of our own.

/** The coherency data of a cookie: the remote file's ETag, last modification and size. */
export interface CacheAux {
  etag: string | null;
  lastModified: number | null;
  size: number;
}

export type DiscardReason = CacheInvalidateReason | 'corrupt' | 'stale-aux';

/** What the store shares with its objects. */
export interface ObjectEnv {
  dir: string;
  db: IndexDb;
  graveyard: Graveyard;
  predictableNames: boolean;
  blockSize: number;
  granule: number;
  /** The object is gone for good (closed and not kept, expired, handed over). */
  released(obj: CacheObject): void;
  /** The last user closed the object (committed): true when the store keeps it for reuse (73). */
  keep(obj: CacheObject): boolean;
  space: ObjectSpace;
  health: CacheHealth;
  counters: CacheCounters;
}

/** The space accounting an object reports to (space.ts SpaceManager). */
export interface ObjectSpace {
  /** Room for `bytes` more allocated bytes and `files` new files; refuses with INSUFFICIENT_STORAGE. */
  allocate(id: number, staging: boolean, bytes: number, files: number): Promise<{ done(): void }>;
  /** The object's allocated bytes or staging flag changed. */
  update(id: number, bytes: number, staging: boolean): void;
  /** The filesystem said ENOSPC. */
  full(): void;
}

export class CacheObject implements CacheObjectIo {
  readonly blockSize: number;
  readonly granule: number;
  /** Every discard of content, in order (for tests and stats). */
  readonly invalidations: DiscardReason[] = [];
  #env: ObjectEnv;
  #row: ObjectRow;
  #aux: CacheAux;
  #content: ContentType;
  #backingSize: number;
  #committed: Range[];
  #crcs: Map<number, number>;
  #written: Range[] = [];
  #dirty = false;
  #hasFile: boolean;
  #file: BackingFile | null = null;
  #opening: Promise<BackingFile> | null = null;
  #temp: string | null = null;
  #generation = 0;
  #users = 1;
  #closed = false;
  #staging: boolean;
  /** Block ranges written into the current backing file, and bytes of blocks of unknown place. */
  #alloc: Range[];
  #allocExtra: number;
  #kept = false;
  #serial: Promise<unknown> = Promise.resolve();

  /** `file`: the open descriptor of a kept object this one takes over (73). */
  constructor(env: ObjectEnv, row: ObjectRow, committed: Range[], crcs: Map<number, number>, file: BackingFile | null = null) {
    this.#env = env;
    this.#file = file;
    this.#row = row;
    this.blockSize = env.blockSize;
    this.granule = env.granule;
    this.#aux = { etag: row.etag, lastModified: row.last_modified, size: row.object_size };
    this.#content = row.content;
    this.#backingSize = row.backing_size;
    this.#hasFile = row.has_file === 1;
    this.#committed = committed;
    this.#crcs = crcs;
    this.#staging = row.staging === 1;
    this.#alloc = committed.map(([s, e]): Range => [s - (s % env.blockSize), roundUp(e, env.blockSize)]).reduce<Range[]>((l, [s, e]) => addRange(l, s, e), []);
    // Without a file (a temp of an earlier run is swept at start) nothing is allocated.
    this.#allocExtra = row.has_file === 1 ? Math.max(0, row.allocated - rangeBytes(this.#alloc)) : 0;
    if (row.has_file !== 1) this.#alloc = [];
  }

  get key(): string {
    return this.#row.key;
  }
  get aux(): CacheAux {
    return { ...this.#aux };
  }
  get objectSize(): number {
    return this.#aux.size;
  }
  get content(): 'NO_DATA' | 'ALL' | 'MAP' {
    return this.#content === CONTENT.ALL ? 'ALL' : this.#content === CONTENT.MAP ? 'MAP' : 'NO_DATA';
  }
  /** The committed size of the backing file (whole blocks). */
  get backingSize(): number {
    return this.#backingSize;
  }
  get committedRanges(): Range[] {
    return [...this.#committed];
  }
  get path(): string {
    return objectPath(this.#env.dir, this.#row.name);
  }
  get users(): number {
    return this.#users;
  }
  /** The object stages a synced file's download (staging.ts). */
  get staging(): boolean {
    return this.#staging;
  }
  /** The object's row in the index. */
  get id(): number {
    return this.#row.id;
  }
  /** Bytes of backing-file blocks held (what the user limit counts). */
  get allocatedBytes(): number {
    return rangeBytes(this.#alloc) + this.#allocExtra;
  }
  /** Servable ranges: whole granules of the collected data. */
  get visibleRanges(): Range[] {
    return this.#visible();
  }
  /** Released by its last user and kept by the store for reuse (73). */
  get kept(): boolean {
    return this.#kept;
  }
  /** Modified and not yet committed. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Another user of the same cookie (store.openObject of an open key). */
  retain(): void {
    this.#users++;
  }

  async queryOccupancy(start: number, end: number): Promise<OccupancyExtent[]> {
    this.#checkOpen();
    if (this.#env.health.withdrawn !== null) return [];
    return occupancy(this.#visible(), start, end, this.blockSize, this.#aux.size);
  }

  async read(start: number, buffers: readonly Uint8Array[], signal?: AbortSignal): Promise<number> {
    this.#checkOpen();
    let total = 0;
    for (const b of buffers) total += b.length;
    if (total === 0) return 0;
    const end = start + total;
    const gen = this.#generation;
    const { health, counters } = this.#env;
    if (health.withdrawn !== null) {
      counters.withdrawnOps++;
      throw health.withdrawnError(`cache read ${this.key}`);
    }
    if (!coversRange(this.#visible(), start, end)) {
      counters.io.miss++;
      throw new NetfsError('IO', `cache ${this.key}: [${start}, ${end}) is not cached`);
    }
    const granules = granulesOverlapping(start, end, this.granule, this.#aux.size);
    const from = granuleRange(granules[0]!, this.granule, this.#aux.size)[0];
    const to = granuleRange(granules[granules.length - 1]!, this.granule, this.#aux.size)[1];
    // Whole granules (the engine widens its reads so): straight into the caller's buffers, the
    // views read at once; else into a scratch buffer of the covering granules, then copied.
    const direct = from === start && to === end;
    const into: readonly Uint8Array[] = direct ? buffers : [new Uint8Array(to - from)];
    try {
      const file = await this.#openFile(gen);
      file.acquire();
      try {
        let pos = from;
        await Promise.all(
          into.map((v) => {
            const at = pos;
            pos += v.length;
            return v.length === 0 ? undefined : file.readFull(at, v);
          }),
        );
      } finally {
        file.release();
      }
    } catch (e) {
      counters.io.rerr++;
      throw this.#fail(e, 'read');
    }
    // (85) A read that ends after the cache was withdrawn is fetched from the server instead.
    if (health.withdrawn !== null) throw health.withdrawnError(`cache read ${this.key}`);
    if (gen !== this.#generation) throw stale(this.key);
    for (const i of granules) {
      const [gs, ge] = granuleRange(i, this.granule, this.#aux.size);
      const want = this.#crcs.get(i);
      if (want === undefined || crcOfViews(into, gs - from, ge - from) !== want) {
        counters.io.rerr++;
        counters.io.crc++;
        await this.#locked(() => this.#discard('corrupt', gen));
        throw new NetfsError('IO', `cache ${this.key}: cache data corrupt (granule ${i}, [${gs}, ${ge}))`);
      }
    }
    if (signal?.aborted === true) throw new NetfsError('CANCELLED', `cache read ${this.key}: cancelled`);
    if (!direct) {
      const scratch = into[0]!;
      let at = start - from;
      for (const b of buffers) {
        b.set(scratch.subarray(at, at + b.length));
        at += b.length;
      }
    }
    counters.io.rd++;
    return total;
  }

  async write(start: number, views: readonly Uint8Array[]): Promise<void> {
    this.#checkOpen();
    let len = 0;
    for (const v of views) len += v.length;
    const end = start + len;
    const bs = this.blockSize;
    const size = this.#aux.size;
    if (start % bs !== 0 || end > size || (end % bs !== 0 && end !== size)) {
      throw new NetfsError('INVALID_ARGUMENT', `cache ${this.key}: write [${start}, ${end}) is not in whole ${bs}-byte blocks within ${size} bytes`);
    }
    if (len === 0) return;
    const { health, counters, space } = this.#env;
    if (health.withdrawn !== null) {
      counters.withdrawnOps++;
      throw health.withdrawnError(`cache write ${this.key}`);
    }
    const gen = this.#generation;
    const padEnd = roundUp(end, bs);
    // Space first (space.ts): a refusal leaves the object as it was.
    const growth = rangeBytes(removeRanges([[start, padEnd]], this.#alloc));
    const creating = !this.#hasFile && this.#file === null && this.#opening === null;
    // A new backing file takes an inode, and its fan-out folders may take two more.
    const grant = await space.allocate(this.#row.id, this.#staging, growth, creating ? 3 : 0);
    try {
      if (gen !== this.#generation) throw stale(this.key);
      this.#alloc = addRange(this.#alloc, start, padEnd);
      this.#reportSpace();
      // Before the file is touched: DIRTY on record, and the range is no longer served.
      this.#beginModify(start, padEnd, growth > 0);
      const file = await this.#openFile(gen);
      file.acquire();
      try {
        const pad = padEnd > end ? [new Uint8Array(padEnd - end)] : [];
        await file.writeFull(start, [...views, ...pad]);
      } finally {
        file.release();
      }
    } catch (e) {
      const err = this.#fail(e, 'write');
      if (err.code === 'INSUFFICIENT_STORAGE') counters.noSpace.nwr++;
      else counters.io.werr++;
      throw err;
    } finally {
      grant.done();
    }
    if (gen !== this.#generation) throw stale(this.key);
    this.#written = addRange(this.#written, start, end);
    counters.io.wr++;
  }

  collectWrite(start: number, len: number): Promise<void> {
    this.#checkOpen();
    const { health } = this.#env;
    if (health.withdrawn !== null) return Promise.reject(health.withdrawnError(`cache collect ${this.key}`));
    return this.#locked(() =>
      this.#collect(start, start + len).catch((e: unknown) => {
        throw this.#fail(e, 'collect');
      }),
    );
  }

  invalidate(reason: CacheInvalidateReason): Promise<void> {
    this.#checkOpen();
    const gen = this.#generation;
    this.#generation++;
    if (this.#env.health.withdrawn !== null) {
      // Nothing reaches the disk any more; nothing of this object is served either way.
      this.#written = [];
      this.#committed = [];
      this.invalidations.push(reason);
      return Promise.resolve();
    }
    return this.#locked(() => this.#discard(reason, gen));
  }

  /** The remote file changed (64) while the object is open: its content goes, the new aux stays. */
  replaceAux(aux: CacheAux): Promise<void> {
    this.#checkOpen();
    const gen = this.#generation;
    this.#generation++;
    return this.#locked(async () => {
      this.#aux = { ...aux };
      await this.#discard('stale-aux', gen);
    });
  }

  /**
   * The remote file changed size under a local write (fscache_resize_cookie): growing keeps the
   * data; shrinking cuts the backing file to whole blocks and zeroes its tail (71).
   */
  resize(size: number): Promise<void> {
    this.#checkOpen();
    if (!Number.isSafeInteger(size) || size < 0) throw new NetfsError('INVALID_ARGUMENT', `cache ${this.key}: bad size ${size}`);
    if (this.#env.health.withdrawn !== null) {
      this.#aux = { ...this.#aux, size };
      this.#committed = [];
      return Promise.resolve();
    }
    return this.#locked(() =>
      this.#resize(size).catch((e: unknown) => {
        throw this.#fail(e, 'resize');
      }),
    );
  }

  /**
   * Drops one user; the last one commits the object (uncollected writes are dropped), and the
   * store may keep it, descriptor open, for reuse (73). Withdrawn: nothing is committed.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (--this.#users > 0) return Promise.resolve();
    this.#env.counters.relinqs.n++;
    return this.#locked(async () => {
      this.#written = [];
      if (this.#env.health.withdrawn === null) {
        try {
          if (this.#temp !== null) {
            await this.#discard('write-error', this.#generation, false);
          } else if (this.#file !== null && (await this.#file.size()) > this.#backingSize) {
            await this.#file.truncate(this.#backingSize);
            this.#alloc = removeRange(this.#alloc, this.#backingSize, Number.MAX_SAFE_INTEGER);
          }
          this.#dirty = false;
          this.#persist(new Map(), []);
        } catch (e) {
          // The object stays DIRTY on record (discarded at the next lookup); the close goes on.
          this.#fail(e, 'close');
        }
      }
      this.#reportSpace();
      this.#closed = true;
      if (this.#env.health.withdrawn === null && this.#env.keep(this)) {
        this.#kept = true;
        return;
      }
      await this.#file?.retire();
      this.#file = null;
      this.#env.released(this);
    });
  }

  /**
   * A kept object is looked up again (73): its open descriptor passes to the object that takes
   * its place (this one stays closed, so old references cannot reach the file).
   */
  handOff(): BackingFile | null {
    if (!this.#kept) return null;
    this.#kept = false;
    const file = this.#file;
    this.#file = null;
    return file;
  }

  /** The keep of a released object ends: its descriptor closes and the store forgets it. */
  expire(): Promise<void> {
    if (!this.#kept) return Promise.resolve();
    this.#kept = false;
    return this.#locked(async () => {
      await this.#file?.retire();
      this.#file = null;
      this.#env.released(this);
    });
  }

  /**
   * verify(): every visible granule re-read and CRC-checked under the object's lock; a bad
   * object is invalidated ('corrupt'). Resolves with the problem found, or null.
   */
  verifyContent(checked: { n: number }): Promise<string | null> {
    if (this.#env.health.withdrawn !== null) return Promise.resolve(null);
    return this.#locked(async () => {
      const visible = this.#visible();
      if (visible.length === 0) return null;
      const file = await this.#openFile(this.#generation);
      const problem = await checkGranules({ read: (pos, into) => file.readFull(pos, into) }, visible, this.#crcs, this.granule, this.#aux.size, checked);
      if (problem !== null) await this.#discard('corrupt', this.#generation);
      return problem;
    }).catch((e: unknown) => {
      throw this.#fail(e, 'verify');
    });
  }

  /** Marks the object as staging a download, or not (staging.ts), on record at once. */
  setStaging(on: boolean): Promise<void> {
    this.#checkOpen();
    return this.#locked(async () => {
      if (this.#env.health.withdrawn === null) this.#env.db.setStaging(this.#row.id, on);
      this.#staging = on;
      this.#reportSpace();
    });
  }

  /**
   * Staging (staging.ts): hands the backing file of a whole object to `place`, fsynced and cut
   * to the object size. Only the sole user may, with nothing uncollected. `place` moves the
   * file away ('moved': the object is closed and its row dropped, so nothing reaches that file
   * through the cache again) or copies it ('copied': the file gets its whole last block back and
   * the object stays, no longer staging). When `place` throws, the file gets its whole last
   * block back and the object stays as it was.
   */
  handOver(place: (path: string) => Promise<'moved' | 'copied'>): Promise<'moved' | 'copied'> {
    this.#checkOpen();
    return this.#locked(async () => {
      const size = this.#aux.size;
      if (this.#users !== 1) throw new NetfsError('CONFLICT', `cache ${this.key}: ${this.#users} users; only a sole user may hand the object over`);
      if (this.#written.length > 0) throw new NetfsError('CONFLICT', `cache ${this.key}: writes not yet collected`);
      if (size > 0 && !coversRange(this.#visible(), 0, size)) throw new NetfsError('INVALID_ARGUMENT', `cache ${this.key}: the object is not whole (${JSON.stringify(this.#visible())} of ${size} bytes)`);
      if (!this.#hasFile) {
        // An empty file has no backing file yet.
        await mkdir(join(this.#env.dir, fanoutDir(this.#row.name)), { recursive: true });
        await writeFile(this.path, new Uint8Array(0), { mode: 0o600 });
        this.#hasFile = true;
      }
      const file = await this.#openFile(this.#generation);
      const whole = Math.max(this.#backingSize, roundUp(size, this.blockSize));
      await file.truncate(size);
      await file.fh.sync().catch((e: unknown) => {
        throw ioError(e, `cache: fsync ${this.path}`);
      });
      let how: 'moved' | 'copied';
      try {
        how = await place(this.path);
      } catch (e) {
        await file.truncate(whole).catch(() => {});
        throw e;
      }
      if (how === 'copied') {
        await file.truncate(whole);
        this.#env.db.setStaging(this.#row.id, false);
        this.#staging = false;
        this.#reportSpace();
        return how;
      }
      this.#generation++;
      this.#closed = true;
      this.#file = null;
      await file.retire();
      this.#env.db.deleteObject(this.#row.id);
      this.#env.released(this);
      return how;
    });
  }

  /** Closes the descriptor and nothing else, as a killed process would (tests). */
  async abandon(): Promise<void> {
    this.#closed = true;
    await this.#file?.retire();
  }

  // ---- internals ----

  #visible(): Range[] {
    return visibleRanges(this.#committed, this.granule, this.#aux.size);
  }

  #checkOpen(): void {
    if (this.#closed) throw new NetfsError('IO', `cache ${this.key}: object is closed`);
  }

  /** The error to throw for `e` (health.ts); a backing-store failure withdraws the cache. */
  #fail(e: unknown, what: string): NetfsError {
    const err = this.#env.health.failure(e, `cache ${what} ${this.key}`);
    if (err.code === 'INSUFFICIENT_STORAGE') this.#env.space.full();
    if (backingFailure(e) !== null) {
      // Best effort: this object is not served after a restart either (the index may be failing too).
      try {
        this.#env.db.markDirty(this.#row.id);
      } catch {
        // the withdrawal stands
      }
    }
    return err;
  }

  #reportSpace(): void {
    this.#env.space.update(this.#row.id, this.allocatedBytes, this.#staging);
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn);
    this.#serial = run.catch(() => {});
    return run;
  }

  /** DIRTY on record and [s, e) out of the committed ranges (and the allocation), in one transaction. */
  #beginModify(s: number, e: number, grew = false): void {
    const overlaps = this.#committed.some(([x, y]) => x < e && y > s);
    if (this.#dirty && !overlaps && !grew) return;
    const drop = granulesOverlapping(s, e, this.granule, this.#aux.size).filter((i) => this.#crcs.has(i));
    this.#committed = removeRange(this.#committed, s, e);
    for (const i of drop) this.#crcs.delete(i);
    this.#dirty = true;
    this.#persist(new Map(), drop);
  }

  #persist(setCrcs: Map<number, number>, dropCrcs: number[]): void {
    this.#env.db.commit(this.#row.id, {
      content: this.#content,
      backingSize: this.#backingSize,
      hasFile: this.#hasFile,
      dirty: this.#dirty,
      objectSize: this.#aux.size,
      allocated: this.allocatedBytes,
      extents: this.#committed,
      setCrcs,
      dropCrcs,
    });
  }

  async #openFile(gen: number): Promise<BackingFile> {
    if (this.#file !== null) return this.#file;
    this.#opening ??= (async () => {
      await mkdir(join(this.#env.dir, fanoutDir(this.#row.name)), { recursive: true });
      let file: BackingFile;
      if (this.#hasFile) file = await BackingFile.open(this.path, 'existing');
      else {
        const temp = tempPath(this.#env.dir, this.#row.name, this.#env.predictableNames);
        file = await BackingFile.open(temp, 'create');
        this.#temp = temp;
      }
      this.#file = file;
      return file;
    })();
    const opening = this.#opening;
    try {
      const file = await opening;
      if (gen !== this.#generation) throw stale(this.key);
      return file;
    } finally {
      if (this.#opening === opening) this.#opening = null;
    }
  }

  async #collect(start: number, end: number): Promise<void> {
    if (!coversRange(this.#written, start, end)) {
      throw new NetfsError('INVALID_ARGUMENT', `cache ${this.key}: collectWrite [${start}, ${end}) was not (wholly) written`);
    }
    const bs = this.blockSize;
    const file = this.#file!;
    // (69) An append after a partial tail block: the junk up to the block end becomes data.
    let runStart = start;
    const tail = this.#committed.find(([, y]) => y < start && y % bs !== 0 && roundUp(y, bs) === start);
    if (tail !== undefined) {
      await file.writeFull(tail[1], [new Uint8Array(start - tail[1])]);
      runStart = tail[1];
    }
    const old = this.#backingSize;
    this.#written = removeRange(this.#written, start, end);
    const committed = addRange(this.#committed, runStart, end);
    const contiguous = committed.length === 1 && committed[0]![0] === 0;
    let content: ContentType = this.#content;
    if (content === CONTENT.NO_DATA || old === 0) content = contiguous ? CONTENT.ALL : CONTENT.MAP;
    else if (content === CONTENT.ALL && (start > old || !contiguous)) content = CONTENT.MAP;
    // A CRC for every granule the run made whole.
    const setCrcs = new Map<number, number>();
    for (const i of granulesOverlapping(runStart, end, this.granule, this.#aux.size)) {
      const [gs, ge] = granuleRange(i, this.granule, this.#aux.size);
      if (!coversRange(committed, gs, ge)) continue;
      const buf = new Uint8Array(ge - gs);
      await file.readFull(gs, buf);
      setCrcs.set(i, crc32(buf));
    }
    // (66) A new backing file becomes visible under its name only now.
    if (this.#temp !== null) {
      await rename(this.#temp, this.path).catch((e: unknown) => {
        throw ioError(e, `cache: link ${this.#temp ?? ''}`);
      });
      file.path = this.path;
      this.#temp = null;
      this.#hasFile = true;
    }
    this.#committed = committed;
    this.#content = content;
    this.#backingSize = Math.max(old, roundUp(end, bs));
    for (const [i, c] of setCrcs) this.#crcs.set(i, c);
    this.#dirty = this.#written.length > 0;
    this.#persist(setCrcs, []);
  }

  /** Content to the graveyard, object empty (72; corrupt data; a stale temp at close). */
  async #discard(reason: DiscardReason, gen: number, record = true): Promise<void> {
    if (gen !== this.#generation && reason === 'corrupt') return; // someone discarded it already
    this.#generation++;
    this.#written = [];
    const file = this.#file;
    const temp = this.#temp;
    const hadFile = this.#hasFile;
    this.#file = null;
    this.#opening = null;
    this.#temp = null;
    this.#committed = [];
    this.#crcs = new Map();
    this.#content = CONTENT.NO_DATA;
    this.#backingSize = 0;
    this.#hasFile = false;
    this.#dirty = false;
    this.#alloc = [];
    this.#allocExtra = 0;
    this.#reportSpace();
    this.#env.db.resetObject(this.#row.id, this.#aux);
    if (record) {
      this.invalidations.push(reason);
      this.#env.counters.invals.n++;
    }
    if (hadFile) await this.#env.graveyard.bury(this.path);
    if (temp !== null) await this.#env.graveyard.bury(temp);
    await file?.retire();
  }

  async #resize(size: number): Promise<void> {
    const old = this.#aux.size;
    if (size === old) return;
    const G = this.granule;
    // The granule that ended at the old EOF changes shape: its CRC goes.
    const drop = [...this.#crcs.keys()].filter((i) => i >= Math.floor(Math.min(size, old) / G));
    for (const i of drop) this.#crcs.delete(i);
    if (size < old) {
      this.#dirty = true;
      this.#persist(new Map(), drop);
      const blockEnd = roundUp(size, this.blockSize);
      if (this.#file !== null || this.#hasFile) {
        const file = await this.#openFile(this.#generation);
        if ((await file.size()) > blockEnd) await file.truncate(blockEnd);
        if (blockEnd > size) await file.writeFull(size, [new Uint8Array(blockEnd - size)]);
      }
      this.#committed = removeRange(this.#committed, size, Number.MAX_SAFE_INTEGER);
      this.#written = removeRange(this.#written, size, Number.MAX_SAFE_INTEGER);
      this.#backingSize = Math.min(this.#backingSize, blockEnd);
      this.#alloc = removeRange(this.#alloc, blockEnd, Number.MAX_SAFE_INTEGER);
      this.#reportSpace();
      if (size === 0) this.#content = CONTENT.NO_DATA;
    }
    this.#aux = { ...this.#aux, size };
    const setCrcs = new Map<number, number>();
    const last = Math.floor(Math.max(size - 1, 0) / G);
    const [gs, ge] = granuleRange(last, G, size);
    if (size > 0 && size < old && coversRange(this.#committed, gs, ge)) {
      const buf = new Uint8Array(ge - gs);
      await this.#file!.readFull(gs, buf);
      setCrcs.set(last, crc32(buf));
      this.#crcs.set(last, setCrcs.get(last)!);
    }
    this.#dirty = this.#written.length > 0;
    this.#persist(setCrcs, drop);
  }
}

function rangeBytes(list: readonly Range[]): number {
  let n = 0;
  for (const [s, e] of list) n += e - s;
  return n;
}

/** `list` minus every range of `minus`. */
function removeRanges(list: readonly Range[], minus: readonly Range[]): Range[] {
  let out = [...list];
  for (const [s, e] of minus) out = removeRange(out, s, e);
  return out;
}

/** CRC32 of bytes [a, b) of the views taken as one run. */
function crcOfViews(views: readonly Uint8Array[], a: number, b: number): number {
  let crc = 0;
  let at = 0;
  for (const v of views) {
    const s = Math.max(a, at);
    const e = Math.min(b, at + v.length);
    if (e > s) crc = crc32(v.subarray(s - at, e - at), crc);
    at += v.length;
    if (at >= b) break;
  }
  return crc;
}

function stale(key: string): NetfsError {
  return new NetfsError('IO', `cache ${key}: stale (the object was invalidated during the operation)`);
}

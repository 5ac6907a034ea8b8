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
 *
 *   content: NO_DATA --first collect at 0--> ALL --collect leaving a hole--> MAP (stays MAP)
 *   committed: collected byte ranges (<= object size); visible: the whole granules of them
 *   backing size: committed size of the file, whole blocks, max end of a collected write
 */
import { crc32 } from 'node:zlib';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { NetfsError } from '../api/errors.js';
import type { CacheInvalidateReason, CacheObjectIo, OccupancyExtent } from '../netfs/cache-api.js';
import { BackingFile, ioError } from './backing-file.js';
import { addRange, coversRange, granuleRange, granulesOverlapping, occupancy, removeRange, roundUp, visibleRanges, type Range } from './extents.js';
import { CONTENT, type ContentType, type IndexDb, type ObjectRow } from './index-db.js';
import { fanoutDir, objectPath, tempPath, type Graveyard } from './layout.js';

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
  released(obj: CacheObject): void;
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
  #serial: Promise<unknown> = Promise.resolve();

  constructor(env: ObjectEnv, row: ObjectRow, committed: Range[], crcs: Map<number, number>) {
    this.#env = env;
    this.#row = row;
    this.blockSize = env.blockSize;
    this.granule = env.granule;
    this.#aux = { etag: row.etag, lastModified: row.last_modified, size: row.object_size };
    this.#content = row.content;
    this.#backingSize = row.backing_size;
    this.#hasFile = row.has_file === 1;
    this.#committed = committed;
    this.#crcs = crcs;
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

  /** Another user of the same cookie (store.openObject of an open key). */
  retain(): void {
    this.#users++;
  }

  async queryOccupancy(start: number, end: number): Promise<OccupancyExtent[]> {
    this.#checkOpen();
    return occupancy(this.#visible(), start, end, this.blockSize, this.#aux.size);
  }

  async read(start: number, buffers: readonly Uint8Array[], signal?: AbortSignal): Promise<number> {
    this.#checkOpen();
    let total = 0;
    for (const b of buffers) total += b.length;
    if (total === 0) return 0;
    const end = start + total;
    const gen = this.#generation;
    if (!coversRange(this.#visible(), start, end)) throw new NetfsError('IO', `cache ${this.key}: [${start}, ${end}) is not cached`);
    const granules = granulesOverlapping(start, end, this.granule, this.#aux.size);
    const from = granuleRange(granules[0]!, this.granule, this.#aux.size)[0];
    const to = granuleRange(granules[granules.length - 1]!, this.granule, this.#aux.size)[1];
    const scratch = new Uint8Array(to - from);
    const file = await this.#openFile(gen);
    file.acquire();
    try {
      await file.readFull(from, scratch);
    } finally {
      file.release();
    }
    if (gen !== this.#generation) throw stale(this.key);
    for (const i of granules) {
      const [gs, ge] = granuleRange(i, this.granule, this.#aux.size);
      const want = this.#crcs.get(i);
      if (want === undefined || crc32(scratch.subarray(gs - from, ge - from)) !== want) {
        await this.#locked(() => this.#discard('corrupt', gen));
        throw new NetfsError('IO', `cache ${this.key}: cache data corrupt (granule ${i}, [${gs}, ${ge}))`);
      }
    }
    if (signal?.aborted === true) throw new NetfsError('CANCELLED', `cache read ${this.key}: cancelled`);
    let at = start - from;
    for (const b of buffers) {
      b.set(scratch.subarray(at, at + b.length));
      at += b.length;
    }
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
    const gen = this.#generation;
    const padEnd = roundUp(end, bs);
    // Before the file is touched: DIRTY on record, and the range is no longer served.
    this.#beginModify(start, padEnd);
    const file = await this.#openFile(gen);
    file.acquire();
    try {
      const pad = padEnd > end ? [new Uint8Array(padEnd - end)] : [];
      await file.writeFull(start, [...views, ...pad]);
    } finally {
      file.release();
    }
    if (gen !== this.#generation) throw stale(this.key);
    this.#written = addRange(this.#written, start, end);
  }

  collectWrite(start: number, len: number): Promise<void> {
    this.#checkOpen();
    return this.#locked(() => this.#collect(start, start + len));
  }

  invalidate(reason: CacheInvalidateReason): Promise<void> {
    this.#checkOpen();
    const gen = this.#generation;
    this.#generation++;
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
    return this.#locked(() => this.#resize(size));
  }

  /** Drops one user; the last one commits the object (uncollected writes are dropped). */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (--this.#users > 0) return Promise.resolve();
    return this.#locked(async () => {
      this.#written = [];
      if (this.#temp !== null) {
        await this.#discard('write-error', this.#generation, false);
      } else if (this.#file !== null && (await this.#file.size()) > this.#backingSize) {
        await this.#file.truncate(this.#backingSize);
      }
      this.#dirty = false;
      this.#persist(new Map(), []);
      this.#closed = true;
      await this.#file?.retire();
      this.#file = null;
      this.#env.released(this);
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

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn);
    this.#serial = run.catch(() => {});
    return run;
  }

  /** DIRTY on record and [s, e) out of the committed ranges, in one transaction. */
  #beginModify(s: number, e: number): void {
    const overlaps = this.#committed.some(([x, y]) => x < e && y > s);
    if (this.#dirty && !overlaps) return;
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
    this.#env.db.resetObject(this.#row.id, this.#aux);
    if (record) this.invalidations.push(reason);
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

function stale(key: string): NetfsError {
  return new NetfsError('IO', `cache ${key}: stale (the object was invalidated during the operation)`);
}

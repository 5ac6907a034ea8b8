/**
 * The cache store: one cache folder, one volume (account) per store, one cookie per remote file
 * (DESIGN §5; digest §5.1, §5.2; behaviours 64-66).
 *
 *   CacheStore.open(dir, { volume })
 *     mkdir objects/ graveyard/ ; index.sqlite (WAL) ; graveyard reaper starts
 *     sweep objects/: files no object names, and this volume's leftover temps -> graveyard
 *   store.openObject(key = remote path, aux = { etag, lastModified, size })
 *     open already           -> same object (aux differs: invalidated first)
 *     no row                 -> new empty object
 *     row DIRTY              -> files to graveyard, empty object   (65: never served)
 *     aux differs            -> files to graveyard, empty object   (64)
 *     file missing or short  -> files to graveyard, empty object
 *     else                   -> adopt content, extents, CRCs; atime = now
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NetfsError } from '../api/errors.js';
import { IndexDb, type ObjectRow } from './index-db.js';
import { GRAVEYARD_DIR, Graveyard, INDEX_FILE, OBJECTS_DIR, objectName, objectPath, tempPath } from './layout.js';
import { CacheObject, type CacheAux, type ObjectEnv } from './object.js';

export interface CacheStoreOptions {
  /** One per account: printable, no '/', not starting with '.', at most 254 characters. */
  volume: string;
  /** Temp files are named `<name>.tmp` (no random suffix), so a test can aim a fault at one. */
  testPredictableNames?: boolean;
  /** Cache block size (default 4096). */
  blockSize?: number;
  /** Content tracking granule (default 65536), a multiple of the block size. */
  granule?: number;
}

/** Why openObject found the object the way it did. */
export type OpenOutcome = 'new' | 'adopted' | 'stale-aux' | 'dirty' | 'missing-file' | 'already-open';

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
  #open = new Map<string, CacheObject>();
  #closed = false;

  private constructor(dir: string, volume: string, db: IndexDb, graveyard: Graveyard, options: CacheStoreOptions) {
    this.dir = dir;
    this.volume = volume;
    this.#db = db;
    this.#volumeId = db.volumeId(volume);
    this.#graveyard = graveyard;
    this.#env = {
      dir,
      db,
      graveyard,
      predictableNames: options.testPredictableNames === true,
      blockSize: options.blockSize ?? 4096,
      granule: options.granule ?? 65536,
      released: (obj) => {
        if (this.#open.get(obj.key) === obj) this.#open.delete(obj.key);
      },
    };
  }

  static async open(dir: string, options: CacheStoreOptions): Promise<CacheStore> {
    const volume = options.volume;
    if (volume.length === 0 || volume.length > 254 || volume.startsWith('.') || volume.includes('/') || [...volume].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      throw new NetfsError('INVALID_ARGUMENT', `cache: bad volume name ${JSON.stringify(volume)}`);
    }
    const bs = options.blockSize ?? 4096;
    const g = options.granule ?? 65536;
    if (!(bs > 0 && g > 0 && g % bs === 0)) throw new NetfsError('INVALID_ARGUMENT', `cache: granule ${g} is not a multiple of block ${bs}`);
    const abs = resolve(dir);
    const lock = `${abs}\0${volume}`;
    if (openVolumes.has(lock)) throw new NetfsError('CONFLICT', `cache: volume ${volume} in ${abs} is already open`);
    await mkdir(join(abs, OBJECTS_DIR), { recursive: true });
    await mkdir(join(abs, GRAVEYARD_DIR), { recursive: true });
    let db: IndexDb;
    try {
      db = new IndexDb(join(abs, INDEX_FILE));
    } catch (e) {
      if (e instanceof NetfsError) throw e;
      throw new NetfsError('IO', `cache: cannot open the index in ${abs}: ${String(e)}`, { cause: e });
    }
    openVolumes.add(lock);
    const graveyard = new Graveyard(abs);
    const store = new CacheStore(abs, volume, db, graveyard, options);
    try {
      await graveyard.init();
      await store.#sweep();
    } catch (e) {
      openVolumes.delete(lock);
      db.close();
      throw e;
    }
    return store;
  }

  /** The cache object of one remote file, checked against its current aux data. */
  async openObject(key: string, aux: CacheAux): Promise<CacheObject> {
    if (this.#closed) throw new NetfsError('IO', 'cache: store is closed');
    if (!Number.isSafeInteger(aux.size) || aux.size < 0) throw new NetfsError('INVALID_ARGUMENT', `cache ${key}: bad size ${aux.size}`);
    const live = this.#open.get(key);
    if (live !== undefined) {
      live.retain();
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
    if (row === undefined) {
      row = this.#db.insertObject(this.#volumeId, key, name, aux);
      outcome = 'new';
    } else {
      outcome = await this.#check(row, aux);
      if (outcome === 'adopted') this.#db.touch(row.id);
      else {
        await this.#bury(row.name);
        this.#db.resetObject(row.id, aux);
      }
      row = this.#db.getObject(this.#volumeId, key)!;
    }
    this.outcomes.push({ key, outcome });
    const obj = new CacheObject(this.#env, row, this.#db.extents(row.id), this.#db.crcs(row.id));
    this.#open.set(key, obj);
    return obj;
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
      while (obj.users > 1) await obj.close();
      await obj.close().catch(() => {});
    }
    await this.#graveyard.drain();
    this.#db.close();
    openVolumes.delete(`${this.dir}\0${this.volume}`);
  }

  /** Stops as a killed process would: descriptors and index closed, nothing committed (tests). */
  async abandonForTesting(): Promise<void> {
    this.#closed = true;
    for (const obj of this.#open.values()) await obj.abandon();
    this.#open.clear();
    await this.#graveyard.drain();
    this.#db.close();
    openVolumes.delete(`${this.dir}\0${this.volume}`);
  }

  async #check(row: ObjectRow, aux: CacheAux): Promise<OpenOutcome> {
    if (row.dirty === 1) return 'dirty';
    if (!sameAux({ etag: row.etag, lastModified: row.last_modified, size: row.object_size }, aux)) return 'stale-aux';
    if (row.has_file === 1) {
      const st = await stat(objectPath(this.dir, row.name)).catch(() => null);
      if (st === null || !st.isFile() || st.size < row.backing_size) return 'missing-file';
    } else if (row.backing_size > 0) return 'missing-file';
    return 'adopted';
  }

  /** The object's file and any temps of it go to the graveyard. */
  async #bury(name: string): Promise<void> {
    const final = objectPath(this.dir, name);
    const dir = join(final, '..');
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const e of entries) if (e === name || e.startsWith(`${name}.tmp`)) await this.#graveyard.bury(join(dir, e));
  }

  /** Files no object names, and this volume's leftover temps, go to the graveyard. */
  async #sweep(): Promise<void> {
    const all = new Set<string>();
    const rows = this.#db.db.prepare('SELECT name FROM objects').all() as { name: string }[];
    for (const r of rows) all.add(r.name);
    const mine = this.#db.objectNames(this.#volumeId);
    const root = join(this.dir, OBJECTS_DIR);
    for (const a of await readdir(root).catch(() => [] as string[])) {
      for (const b of await readdir(join(root, a)).catch(() => [] as string[])) {
        const dir = join(root, a, b);
        for (const f of await readdir(dir).catch(() => [] as string[])) {
          const base = f.split('.tmp')[0] ?? f;
          const isTemp = f !== base;
          if (!all.has(base) || (isTemp && mine.has(base))) await this.#graveyard.bury(join(dir, f));
        }
      }
    }
  }
}

function sameAux(a: CacheAux, b: CacheAux): boolean {
  return a.etag === b.etag && a.lastModified === b.lastModified && a.size === b.size;
}

/**
 * The cache index: one SQLite file (better-sqlite3, WAL, synchronous=NORMAL) that holds what
 * cachefiles keeps in xattrs, plus the extent list and a CRC32 per granule (DESIGN §5).
 *
 *   volumes  (id, name, clean)                              one per account; clean = 1 only
 *                                                           between a clean close and the next open
 *      1
 *      |  n
 *   objects  (id, volume_id, key, name, etag, last_modified, object_size,
 *             content 0|2|3, dirty 0|1, has_file 0|1, backing_size, atime,
 *             staging 0|1,             a synced file's download in progress (staging.ts)
 *             allocated)               bytes of backing-file blocks written (space.ts; v3)
 *      1                       UNIQUE (volume_id, key)
 *      +--n extents  (object_id, start_at, end_at)          committed byte ranges
 *      +--n granules (object_id, idx, crc)                  CRC32 of each complete granule
 *
 * The schema is versioned with PRAGMA user_version (SCHEMA_VERSION; older indexes are migrated
 * in place, v1 -> v2 -> v3). `allocated` is what the user limit counts (space.ts); `atime` is a
 * strictly increasing ms stamp, the culler's LRU order (cull.ts). The WAL is kept small
 * (autocheckpoint at 256 pages, cut to 1 MiB after a checkpoint): the index shares the cache
 * filesystem's free space with the objects. synchronous=NORMAL in WAL
 * mode survives a killed process (the case this store is built for); after a power loss the
 * last commits may be lost, and the per-granule CRCs catch data that did not reach the disk.
 */
import Database from 'better-sqlite3';
import { NetfsError } from '../api/errors.js';
import type { Range } from './extents.js';

export const SCHEMA_VERSION = 4;

/** Persisted content types (the values cachefiles uses; DIRTY is a separate flag here). */
export const CONTENT = { NO_DATA: 0, ALL: 2, MAP: 3 } as const;
export type ContentType = (typeof CONTENT)[keyof typeof CONTENT];

export interface ObjectRow {
  id: number;
  volume_id: number;
  key: string;
  name: string;
  etag: string | null;
  last_modified: number | null;
  object_size: number;
  content: ContentType;
  dirty: 0 | 1;
  has_file: 0 | 1;
  backing_size: number;
  atime: number;
  /** 1 while the object stages a synced file's download (staging.ts; schema version 2). */
  staging: 0 | 1;
  /** Bytes of the backing file's blocks the object has written (schema version 3; space.ts). */
  allocated: number;
}

/** What a commit writes for one object, in one transaction. */
export interface ObjectCommit {
  content: ContentType;
  backingSize: number;
  hasFile: boolean;
  dirty: boolean;
  objectSize: number;
  /** Bytes of the backing file's blocks written so far (space.ts). */
  allocated: number;
  extents: readonly Range[];
  /** Granule CRCs to set. */
  setCrcs: ReadonlyMap<number, number>;
  /** Granule indexes whose CRC is dropped (before setCrcs is applied). */
  dropCrcs: readonly number[];
}

/** v2 -> v3: the allocated bytes (a v2 file counts as wholly allocated) and the LRU index. */
const MIGRATE_V2 = `
ALTER TABLE objects ADD COLUMN allocated INTEGER NOT NULL DEFAULT 0;
UPDATE objects SET allocated = backing_size;
CREATE INDEX objects_lru ON objects (volume_id, staging, atime);
`;

/** A cull candidate as the index has it. */
export interface LruRow {
  id: number;
  key: string;
  name: string;
  atime: number;
  allocated: number;
  staging: 0 | 1;
}

let lastStamp = 0;
/** Date.now(), but strictly increasing in this process (two touches never tie in LRU order). */
export function atimeNow(): number {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return lastStamp;
}

const SCHEMA = `
CREATE TABLE volumes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  clean INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE objects (
  id INTEGER PRIMARY KEY,
  volume_id INTEGER NOT NULL REFERENCES volumes(id),
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  etag TEXT,
  last_modified INTEGER,
  object_size INTEGER NOT NULL,
  content INTEGER NOT NULL DEFAULT 0,
  dirty INTEGER NOT NULL DEFAULT 0,
  has_file INTEGER NOT NULL DEFAULT 0,
  backing_size INTEGER NOT NULL DEFAULT 0,
  atime INTEGER NOT NULL,
  staging INTEGER NOT NULL DEFAULT 0,
  allocated INTEGER NOT NULL DEFAULT 0,
  UNIQUE (volume_id, key)
);
CREATE INDEX objects_lru ON objects (volume_id, staging, atime);
CREATE TABLE extents (
  object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  PRIMARY KEY (object_id, start_at)
) WITHOUT ROWID;
CREATE TABLE granules (
  object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  PRIMARY KEY (object_id, idx)
) WITHOUT ROWID;
`;

export class IndexDb {
  readonly db: Database.Database;
  /** Statements prepared once per text (preparing again on every call cost ~0.3 ms each). */
  readonly #stmts = new Map<string, Database.Statement>();

  /** The prepared statement for `text` (every text here is a constant). */
  sql(text: string): Database.Statement {
    let st = this.#stmts.get(text);
    if (st === undefined) {
      st = this.db.prepare(text);
      this.#stmts.set(text, st);
    }
    return st;
  }

  constructor(path: string, options: { readonly?: boolean } = {}) {
    if (options.readonly === true) {
      // A reader beside the process that owns the store (`ls`, `cache ls`): no pragma that
      // writes, no migration; a schema this build does not know is refused.
      this.db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
      const v = this.db.pragma('user_version', { simple: true }) as number;
      if (v !== SCHEMA_VERSION) {
        this.db.close();
        throw new NetfsError('UNSUPPORTED', `cache index ${path}: schema version ${v}; the engine upgrades it when it next starts`);
      }
      return;
    }
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('wal_autocheckpoint = 256');
    this.db.pragma('journal_size_limit = 1048576');
    let version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      this.db.transaction(() => {
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
      version = SCHEMA_VERSION;
    } else if (version === 1) {
      // Version 2 added objects.staging (staging.ts).
      this.db.transaction(() => {
        this.db.exec('ALTER TABLE objects ADD COLUMN staging INTEGER NOT NULL DEFAULT 0');
        this.db.pragma('user_version = 2');
      })();
      version = 2;
    }
    if (version === 2) {
      this.db.transaction(() => {
        this.db.exec(MIGRATE_V2);
        this.db.pragma('user_version = 3');
      })();
      version = 3;
    }
    if (version === 3) {
      // Version 4 added volumes.clean (the start-up sweep is skipped after a clean close).
      this.db.transaction(() => {
        this.db.exec('ALTER TABLE volumes ADD COLUMN clean INTEGER NOT NULL DEFAULT 0');
        this.db.pragma('user_version = 4');
      })();
      version = 4;
    }
    if (version !== SCHEMA_VERSION) {
      this.db.close();
      throw new NetfsError('UNSUPPORTED', `cache index ${path}: schema version ${version}, this build knows ${SCHEMA_VERSION}`);
    }
  }

  /** The id of a volume, or null when it has none yet (read-only lookups). */
  findVolume(name: string): number | null {
    const row = this.sql('SELECT id FROM volumes WHERE name = ?').get(name) as { id: number } | undefined;
    return row?.id ?? null;
  }

  /**
   * Whether the volume was closed cleanly last time; from now on it is not (committed with
   * synchronous=FULL before anything else is written, so a crash later always finds it unclean).
   */
  takeClean(volumeId: number): boolean {
    const row = this.sql('SELECT clean FROM volumes WHERE id = ?').get(volumeId) as { clean: number } | undefined;
    if (row?.clean !== 1) return false;
    this.db.pragma('synchronous = FULL');
    try {
      this.sql('UPDATE volumes SET clean = 0 WHERE id = ?').run(volumeId);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
    return true;
  }

  /** Every object of the volume is closed and committed, the graveyard empty: the index and the store agree. */
  markClean(volumeId: number): void {
    this.sql('UPDATE volumes SET clean = 1 WHERE id = ?').run(volumeId);
  }

  volumeId(name: string): number {
    this.sql('INSERT OR IGNORE INTO volumes (name) VALUES (?)').run(name);
    const row = this.sql('SELECT id FROM volumes WHERE name = ?').get(name) as { id: number };
    return row.id;
  }

  getObject(volumeId: number, key: string): ObjectRow | undefined {
    return this.sql('SELECT * FROM objects WHERE volume_id = ? AND key = ?').get(volumeId, key) as ObjectRow | undefined;
  }

  insertObject(volumeId: number, key: string, name: string, aux: { etag: string | null; lastModified: number | null; size: number }): ObjectRow {
    this.db
      .prepare('INSERT INTO objects (volume_id, key, name, etag, last_modified, object_size, atime) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(volumeId, key, name, aux.etag, aux.lastModified, aux.size, atimeNow());
    return this.getObject(volumeId, key)!;
  }

  /** Names of every object's backing file in the volume. */
  objectNames(volumeId: number): Set<string> {
    const rows = this.sql('SELECT name FROM objects WHERE volume_id = ?').all(volumeId) as { name: string }[];
    return new Set(rows.map((r) => r.name));
  }

  extents(objectId: number): Range[] {
    const rows = this.sql('SELECT start_at, end_at FROM extents WHERE object_id = ? ORDER BY start_at').all(objectId) as { start_at: number; end_at: number }[];
    return rows.map((r) => [r.start_at, r.end_at] as const);
  }

  crcs(objectId: number): Map<number, number> {
    const rows = this.sql('SELECT idx, crc FROM granules WHERE object_id = ?').all(objectId) as { idx: number; crc: number }[];
    return new Map(rows.map((r) => [r.idx, r.crc]));
  }

  /** The object starts empty with new aux data: no content, no file, not dirty. */
  resetObject(objectId: number, aux: { etag: string | null; lastModified: number | null; size: number }): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM extents WHERE object_id = ?').run(objectId);
      this.sql('DELETE FROM granules WHERE object_id = ?').run(objectId);
      this.db
        .prepare('UPDATE objects SET etag = ?, last_modified = ?, object_size = ?, content = 0, dirty = 0, has_file = 0, backing_size = 0, allocated = 0, atime = ? WHERE id = ?')
        .run(aux.etag, aux.lastModified, aux.size, atimeNow(), objectId);
    })();
  }

  /** Marks the object as staging a download (or not). */
  setStaging(objectId: number, on: boolean): void {
    this.sql('UPDATE objects SET staging = ? WHERE id = ?').run(on ? 1 : 0, objectId);
  }

  /** Forgets the object (its extents and CRCs go with it). */
  deleteObject(objectId: number): void {
    this.sql('DELETE FROM objects WHERE id = ?').run(objectId);
  }

  touch(objectId: number): void {
    this.sql('UPDATE objects SET atime = ? WHERE id = ?').run(atimeNow(), objectId);
  }

  getObjectById(objectId: number): ObjectRow | undefined {
    return this.sql('SELECT * FROM objects WHERE id = ?').get(objectId) as ObjectRow | undefined;
  }

  /** Every object of the volume, in key order. */
  allObjects(volumeId: number): ObjectRow[] {
    return this.sql('SELECT * FROM objects WHERE volume_id = ? ORDER BY key').all(volumeId) as ObjectRow[];
  }

  /** Committed extents of every object of the volume, by object id. */
  allExtents(volumeId: number): Map<number, Range[]> {
    const rows = this.db
      .prepare('SELECT e.object_id AS id, e.start_at AS s, e.end_at AS e FROM extents e JOIN objects o ON o.id = e.object_id WHERE o.volume_id = ? ORDER BY e.object_id, e.start_at')
      .all(volumeId) as { id: number; s: number; e: number }[];
    const out = new Map<number, Range[]>();
    for (const r of rows) {
      let list = out.get(r.id);
      if (list === undefined) out.set(r.id, (list = []));
      list.push([r.s, r.e]);
    }
    return out;
  }

  /** Allocated bytes of the volume's objects not in `except`, apart (limited) from staging ones. */
  allocatedTotals(volumeId: number, except: ReadonlySet<number> = new Set()): { limited: number; staging: number } {
    const rows = this.sql('SELECT id, allocated, staging FROM objects WHERE volume_id = ? AND allocated > 0').all(volumeId) as { id: number; allocated: number; staging: number }[];
    let limited = 0;
    let staging = 0;
    for (const r of rows) {
      if (except.has(r.id)) continue;
      if (r.staging === 1) staging += r.allocated;
      else limited += r.allocated;
    }
    return { limited, staging };
  }

  /**
   * The culler's candidates: objects that hold space and are not DIRTY, least recently used
   * first (staging ones after all others), at most `limit` of them.
   */
  lruCandidates(volumeId: number, limit: number): LruRow[] {
    return this.db
      .prepare('SELECT id, key, name, atime, allocated, staging FROM objects WHERE volume_id = ? AND dirty = 0 AND (has_file = 1 OR allocated > 0) ORDER BY staging, atime, id LIMIT ?')
      .all(volumeId, limit) as LruRow[];
  }

  setAllocated(objectId: number, bytes: number): void {
    this.sql('UPDATE objects SET allocated = ? WHERE id = ?').run(bytes, objectId);
  }

  /** DIRTY on record, nothing else changed: the next lookup discards the object (65). */
  markDirty(objectId: number): void {
    this.sql('UPDATE objects SET dirty = 1 WHERE id = ?').run(objectId);
  }

  /** A crash leftover emptied at start: no content, no file, still DIRTY so a lookup reports it (65, C8). */
  emptyDirty(objectId: number): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM extents WHERE object_id = ?').run(objectId);
      this.sql('DELETE FROM granules WHERE object_id = ?').run(objectId);
      this.sql('UPDATE objects SET content = 0, has_file = 0, backing_size = 0, allocated = 0 WHERE id = ?').run(objectId);
    })();
  }

  /** Writes the object's whole state in one transaction. */
  commit(objectId: number, c: ObjectCommit): void {
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE objects SET content = ?, backing_size = ?, has_file = ?, dirty = ?, object_size = ?, allocated = ? WHERE id = ?')
        .run(c.content, c.backingSize, c.hasFile ? 1 : 0, c.dirty ? 1 : 0, c.objectSize, c.allocated, objectId);
      this.sql('DELETE FROM extents WHERE object_id = ?').run(objectId);
      const ins = this.sql('INSERT INTO extents (object_id, start_at, end_at) VALUES (?, ?, ?)');
      for (const [s, e] of c.extents) ins.run(objectId, s, e);
      const drop = this.sql('DELETE FROM granules WHERE object_id = ? AND idx = ?');
      for (const i of c.dropCrcs) drop.run(objectId, i);
      const set = this.sql('INSERT OR REPLACE INTO granules (object_id, idx, crc) VALUES (?, ?, ?)');
      for (const [i, crc] of c.setCrcs) set.run(objectId, i, crc);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

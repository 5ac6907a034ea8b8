/**
 * The cache index: one SQLite file (better-sqlite3, WAL, synchronous=NORMAL) that holds what
 * cachefiles keeps in xattrs, plus the extent list and a CRC32 per granule (DESIGN §5).
 *
 *   volumes  (id, name)                                     one per account
 *      1
 *      |  n
 *   objects  (id, volume_id, key, name, etag, last_modified, object_size,
 *             content 0|2|3, dirty 0|1, has_file 0|1, backing_size, atime)
 *      1                       UNIQUE (volume_id, key)
 *      +--n extents  (object_id, start_at, end_at)          committed byte ranges
 *      +--n granules (object_id, idx, crc)                  CRC32 of each complete granule
 *
 * The schema is versioned with PRAGMA user_version (SCHEMA_VERSION). synchronous=NORMAL in WAL
 * mode survives a killed process (the case this store is built for); after a power loss the
 * last commits may be lost, and the per-granule CRCs catch data that did not reach the disk.
 */
import Database from 'better-sqlite3';
import { NetfsError } from '../api/errors.js';
import type { Range } from './extents.js';

export const SCHEMA_VERSION = 1;

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
}

/** What a commit writes for one object, in one transaction. */
export interface ObjectCommit {
  content: ContentType;
  backingSize: number;
  hasFile: boolean;
  dirty: boolean;
  objectSize: number;
  extents: readonly Range[];
  /** Granule CRCs to set. */
  setCrcs: ReadonlyMap<number, number>;
  /** Granule indexes whose CRC is dropped (before setCrcs is applied). */
  dropCrcs: readonly number[];
}

const SCHEMA = `
CREATE TABLE volumes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
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
  UNIQUE (volume_id, key)
);
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

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      this.db.transaction(() => {
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    } else if (version !== SCHEMA_VERSION) {
      this.db.close();
      throw new NetfsError('UNSUPPORTED', `cache index ${path}: schema version ${version}, this build knows ${SCHEMA_VERSION}`);
    }
  }

  volumeId(name: string): number {
    this.db.prepare('INSERT OR IGNORE INTO volumes (name) VALUES (?)').run(name);
    const row = this.db.prepare('SELECT id FROM volumes WHERE name = ?').get(name) as { id: number };
    return row.id;
  }

  getObject(volumeId: number, key: string): ObjectRow | undefined {
    return this.db.prepare('SELECT * FROM objects WHERE volume_id = ? AND key = ?').get(volumeId, key) as ObjectRow | undefined;
  }

  insertObject(volumeId: number, key: string, name: string, aux: { etag: string | null; lastModified: number | null; size: number }): ObjectRow {
    this.db
      .prepare('INSERT INTO objects (volume_id, key, name, etag, last_modified, object_size, atime) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(volumeId, key, name, aux.etag, aux.lastModified, aux.size, Date.now());
    return this.getObject(volumeId, key)!;
  }

  /** Names of every object's backing file in the volume. */
  objectNames(volumeId: number): Set<string> {
    const rows = this.db.prepare('SELECT name FROM objects WHERE volume_id = ?').all(volumeId) as { name: string }[];
    return new Set(rows.map((r) => r.name));
  }

  extents(objectId: number): Range[] {
    const rows = this.db.prepare('SELECT start_at, end_at FROM extents WHERE object_id = ? ORDER BY start_at').all(objectId) as { start_at: number; end_at: number }[];
    return rows.map((r) => [r.start_at, r.end_at] as const);
  }

  crcs(objectId: number): Map<number, number> {
    const rows = this.db.prepare('SELECT idx, crc FROM granules WHERE object_id = ?').all(objectId) as { idx: number; crc: number }[];
    return new Map(rows.map((r) => [r.idx, r.crc]));
  }

  /** The object starts empty with new aux data: no content, no file, not dirty. */
  resetObject(objectId: number, aux: { etag: string | null; lastModified: number | null; size: number }): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM extents WHERE object_id = ?').run(objectId);
      this.db.prepare('DELETE FROM granules WHERE object_id = ?').run(objectId);
      this.db
        .prepare('UPDATE objects SET etag = ?, last_modified = ?, object_size = ?, content = 0, dirty = 0, has_file = 0, backing_size = 0, atime = ? WHERE id = ?')
        .run(aux.etag, aux.lastModified, aux.size, Date.now(), objectId);
    })();
  }

  touch(objectId: number): void {
    this.db.prepare('UPDATE objects SET atime = ? WHERE id = ?').run(Date.now(), objectId);
  }

  /** Writes the object's whole state in one transaction. */
  commit(objectId: number, c: ObjectCommit): void {
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE objects SET content = ?, backing_size = ?, has_file = ?, dirty = ?, object_size = ? WHERE id = ?')
        .run(c.content, c.backingSize, c.hasFile ? 1 : 0, c.dirty ? 1 : 0, c.objectSize, objectId);
      this.db.prepare('DELETE FROM extents WHERE object_id = ?').run(objectId);
      const ins = this.db.prepare('INSERT INTO extents (object_id, start_at, end_at) VALUES (?, ?, ?)');
      for (const [s, e] of c.extents) ins.run(objectId, s, e);
      const drop = this.db.prepare('DELETE FROM granules WHERE object_id = ? AND idx = ?');
      for (const i of c.dropCrcs) drop.run(objectId, i);
      const set = this.db.prepare('INSERT OR REPLACE INTO granules (object_id, idx, crc) VALUES (?, ?, ?)');
      for (const [i, crc] of c.setCrcs) set.run(objectId, i, crc);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * The journal's schema, as a list of migrations applied in order (PRAGMA user_version says how far
 * a file got). All pending migrations run in one transaction: a crash or an error in any of them
 * leaves the file at its old version, untouched.
 *
 *   user_version 0 (new file) --1--> 1 --2--> 2 ...        newer than this build knows -> UNSUPPORTED
 *
 *   entries    path PK | kind etag remote_size remote_mtime_ms local_size local_mtime_ms local_ino placement
 *   pins       path PK | placement                           (paths need not exist anywhere)
 *   failures   path PK | code message attempts first_failed_ms last_failed_ms next_retry_ms
 *   conflicts  copy_path PK | path created_ms our_size our_mtime_ms their_etag
 *   trash      id PK | original_path file_name kind size deleted_ms
 *   settings   key PK | value (JSON)
 *   pending    path PK | since_ms                            (local changes not yet on the server)
 *   placing    path PK | the entries row a download will have once placed   (v2: a kill between
 *              the rename and the entries row leaves it; the next pass settles it)
 */
import type Database from 'better-sqlite3';
import { NetfsError } from '../api/errors.js';

export interface Migration {
  /** The user_version this migration brings the file to (1, 2, 3, ... with no gaps). */
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'entries, pins, failures, conflicts, trash, settings, pending',
    up(db) {
      db.exec(`
        CREATE TABLE entries (
          path TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
          etag TEXT,
          remote_size INTEGER,
          remote_mtime_ms REAL,
          local_size INTEGER NOT NULL,
          local_mtime_ms REAL NOT NULL,
          local_ino INTEGER NOT NULL,
          placement TEXT NOT NULL DEFAULT 'synced' CHECK (placement IN ('synced', 'online-only'))
        ) WITHOUT ROWID;
        CREATE TABLE pins (
          path TEXT PRIMARY KEY,
          placement TEXT NOT NULL CHECK (placement IN ('synced', 'online-only'))
        ) WITHOUT ROWID;
        CREATE TABLE failures (
          path TEXT PRIMARY KEY,
          code TEXT NOT NULL,
          message TEXT NOT NULL,
          attempts INTEGER NOT NULL,
          first_failed_ms INTEGER NOT NULL,
          last_failed_ms INTEGER NOT NULL,
          next_retry_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE conflicts (
          copy_path TEXT PRIMARY KEY,
          path TEXT NOT NULL,
          created_ms INTEGER NOT NULL,
          our_size INTEGER NOT NULL,
          our_mtime_ms REAL NOT NULL,
          their_etag TEXT
        ) WITHOUT ROWID;
        CREATE INDEX conflicts_by_path ON conflicts (path);
        CREATE TABLE trash (
          id TEXT PRIMARY KEY,
          original_path TEXT NOT NULL,
          file_name TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
          size INTEGER NOT NULL,
          deleted_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE pending (
          path TEXT PRIMARY KEY,
          since_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'placing: downloads renamed into place whose entries row may not be written yet',
    up(db) {
      db.exec(`
        CREATE TABLE placing (
          path TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('file', 'folder')),
          etag TEXT,
          remote_size INTEGER,
          remote_mtime_ms REAL,
          local_size INTEGER NOT NULL,
          local_mtime_ms REAL NOT NULL,
          local_ino INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
];

/** The version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings `db` to the last migration's version in one transaction. Throws UNSUPPORTED for a file
 * written by a newer build (it is left as it is), and INVALID_ARGUMENT for a malformed list.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[], label: string): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new NetfsError('INVALID_ARGUMENT', `${label}: migration ${i} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > latest) {
    throw new NetfsError('UNSUPPORTED', `${label}: schema version ${from} is newer than this build knows (${latest}); use a newer netfs-sync, or move the state folder aside`);
  }
  if (from === latest) return { from, to: from };
  db.transaction(() => {
    for (const m of migrations.slice(from)) {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
  })();
  return { from, to: latest };
}

/**
 * The sync journal: one SQLite file per state folder (better-sqlite3, WAL) holding what both
 * sides were at the last sync, and the bookkeeping around it (DESIGN §6, issue 5 items 1, 5, 6, 7).
 *
 *   Journal.open(file) ──> quick_check ──ok──> migrate ──> journal
 *                              │ corrupt / not a database
 *                              v
 *          file, -wal, -shm renamed to <file>.corrupt-<time>[-wal|-shm]  (never deleted)
 *          a fresh file is created; `openReport.reset` says so, and the next pass runs with
 *          no base: first-sync rules, conflict copies, zero deletes (C6)
 *
 *   entries   base(), entry(), recordSynced(), forget(), forgetTree(), renameTree() (BaseTree for plan())
 *   pins      pin(), unpin(), clearPin(), placementOf(), placements()      (nearest pinned ancestor)
 *   failures  recordFailure(), failure(), failures(), clearFailure(), retryNow(), inBackoff()
 *   conflicts addConflict(), conflicts(), resolveConflict()
 *   trash     addTrash(), trashEntries(), trashEntry(), removeTrash()
 *   settings  setting(), settings(), setSetting(), resetSetting()
 *   pending   markPending(), clearPending(), pending()
 *   placing   markPlacing(), placings(), clearPlacings()   (a download about to be renamed into
 *             place: recordSynced and forget of the path drop its row)
 *
 * Durability: synchronous=NORMAL in WAL mode survives a killed process (C4); a power loss may
 * lose the last commits. For entries that is harmless by design: a lost record leaves the old
 * base, and the planner then sees the same change on both sides and compares (C3), or the next
 * pass repeats an idempotent step. What the user said or cannot rebuild (pins, settings,
 * conflicts, trash rows) is committed with synchronous=FULL. The -wal and -shm files belong to
 * SQLite: this code only ever renames them with a corrupt file.
 */
import { existsSync, renameSync } from 'node:fs';
import Database from 'better-sqlite3';
import { NetfsError } from '../api/errors.js';
import type { Placement } from '../api/states.js';
import { parseRemotePath } from '../remote/path.js';
import { MIGRATIONS, migrate, type Migration } from './journal-schema.js';
import type { BaseEntry, BaseTree, PlacementOf } from './model.js';
import { checkSettingKey, checkSettingValue, DEFAULT_SETTINGS, SETTING_KEYS, type SettingKey, type Settings } from './settings.js';
import { ancestorsOf } from './tree-paths.js';

/** The longest wait between two attempts at a failed item (Nextcloud's cap). */
export const MAX_BACKOFF_MS = 24 * 3600 * 1000;
export const BACKOFF_FACTOR = 5;

/** The wait before attempt `attempts + 1`: base, base*5, base*25, ... at most 24 h. */
export function backoffDelayMs(attempts: number, baseMs: number): number {
  if (attempts < 1) return 0;
  return Math.min(MAX_BACKOFF_MS, baseMs * BACKOFF_FACTOR ** (attempts - 1));
}

export interface FailureRow {
  path: string;
  code: string;
  message: string;
  /** Real attempts that failed, counting the first. */
  attempts: number;
  firstFailedMs: number;
  lastFailedMs: number;
  /** Not before this time (ms since the epoch); 0 = at once. */
  nextRetryMs: number;
}

export interface ConflictRow {
  /** The path that keeps the server's version. */
  path: string;
  /** Where our version went. */
  copyPath: string;
  createdMs: number;
  ourSize: number;
  ourMtimeMs: number;
  /** The server's ETag of the version that kept the name. */
  theirEtag: string | null;
}

export interface TrashRow {
  id: string;
  /** The remote path the entry had in the sync folder. */
  originalPath: string;
  /** Its name inside `<state>/trash/`. */
  fileName: string;
  kind: 'file' | 'folder';
  size: number;
  deletedMs: number;
}

export interface OpenReport {
  file: string;
  /** The file did not exist (or was just replaced after corruption). */
  created: boolean;
  /** Set when a corrupt or unreadable journal was moved aside and a fresh one started. */
  reset: { movedTo: string; reason: string } | null;
}

export interface JournalOptions {
  /** 'move-aside' (the engine, default) or 'throw' (a reader running beside the engine). */
  onCorrupt?: 'move-aside' | 'throw';
  /** synchronous for ordinary commits (default NORMAL; FULL for every commit). */
  synchronous?: 'NORMAL' | 'FULL';
  /** Schema migrations (tests only). */
  migrations?: readonly Migration[];
  /** The clock for the corrupt file's name (tests). */
  now?: () => number;
}

interface EntryRow {
  path: string;
  kind: 'file' | 'folder';
  etag: string | null;
  remote_size: number | null;
  remote_mtime_ms: number | null;
  local_size: number;
  local_mtime_ms: number;
  local_ino: number;
  placement: Placement;
}

class CorruptJournal extends Error {}

function isCorruption(error: unknown): boolean {
  if (error instanceof CorruptJournal) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

function checkPath(path: string): string {
  parseRemotePath(path);
  return path;
}

/** <file>.corrupt-20250307T142501Z (ISO time, no separators a shell would mind). */
function asideName(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let name = `${file}.corrupt-${stamp}`;
  for (let n = 2; existsSync(name); n++) name = `${file}.corrupt-${stamp}-${n}`;
  return name;
}

export class Journal {
  readonly file: string;
  readonly openReport: OpenReport;
  private readonly db: Database.Database;
  private readonly normal: 'NORMAL' | 'FULL';
  /** Statements prepared once per text (every text here is a constant). */
  private readonly stmts = new Map<string, Database.Statement>();

  private sql(text: string): Database.Statement {
    let st = this.stmts.get(text);
    if (st === undefined) {
      st = this.db.prepare(text);
      this.stmts.set(text, st);
    }
    return st;
  }

  private constructor(file: string, db: Database.Database, report: OpenReport, normal: 'NORMAL' | 'FULL') {
    this.file = file;
    this.db = db;
    this.openReport = report;
    this.normal = normal;
  }

  /** Opens (creating, migrating, or replacing a corrupt one) the journal at `file`. */
  static open(file: string, opts: JournalOptions = {}): Journal {
    const normal = opts.synchronous ?? 'NORMAL';
    const migrations = opts.migrations ?? MIGRATIONS;
    const created = !existsSync(file);
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      prepare(db, file, normal, migrations);
      return new Journal(file, db, { file, created, reset: null }, normal);
    } catch (error) {
      if (!isCorruption(error) || opts.onCorrupt === 'throw') {
        db?.close();
        if (!isCorruption(error)) throw ioError(`journal ${file}: cannot open`, error);
        throw new NetfsError('IO', `journal ${file} is corrupt (${errorText(error)}); the engine moves it aside when it starts`, { cause: error });
      }
      // Renamed while SQLite still has them open: on close it removes its -wal and -shm by name,
      // which are then gone from under it, so the set stays together for a post-mortem.
      const movedTo = asideName(file, (opts.now ?? Date.now)());
      try {
        renameSync(file, movedTo);
        for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, movedTo + suffix);
      } catch (renameError) {
        db?.close();
        throw ioError(`journal ${file} is corrupt and could not be moved aside`, renameError);
      }
      db?.close();
      const fresh = new Database(file);
      try {
        prepare(fresh, file, normal, migrations);
      } catch (freshError) {
        fresh.close();
        throw ioError(`journal ${file}: cannot start a fresh journal`, freshError);
      }
      return new Journal(file, fresh, { file, created: true, reset: { movedTo, reason: errorText(error) } }, normal);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one transaction (calls inside nest as savepoints). */
  batch<T>(fn: () => T): T {
    return this.guard('batch', () => this.db.transaction(fn)());
  }

  /** PRAGMA integrity_check: 'ok', or what is wrong. */
  integrityCheck(): string {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }

  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  // ---- entries -------------------------------------------------------------------------------

  base(): BaseTree {
    const rows = this.guard('read entries', () => this.sql('SELECT * FROM entries').all() as EntryRow[]);
    return new Map(rows.map((r) => [r.path, toBase(r)]));
  }

  entry(path: string): BaseEntry | undefined {
    const row = this.guard('read entry', () => this.sql('SELECT * FROM entries WHERE path = ?').get(path) as EntryRow | undefined);
    return row === undefined ? undefined : toBase(row);
  }

  entryCount(): number {
    return this.guard('count entries', () => (this.sql('SELECT count(*) AS n FROM entries').get() as { n: number }).n);
  }

  /** Files recorded as synced (not online-only), counted in SQL: base() would build the whole tree for a number. */
  syncedFileCount(): number {
    return this.guard('count entries', () => (this.sql("SELECT count(*) AS n FROM entries WHERE kind = 'file' AND placement = 'synced'").get() as { n: number }).n);
  }

  /** Records each entry as in sync now (insert or replace), all in one transaction. */
  recordSynced(entries: readonly BaseEntry[]): void {
    this.guard('record entries', () => {
      const put = this.sql(
        'INSERT OR REPLACE INTO entries (path, kind, etag, remote_size, remote_mtime_ms, local_size, local_mtime_ms, local_ino, placement) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const placed = this.sql('DELETE FROM placing WHERE path = ?');
      this.db.transaction(() => {
        for (const e of entries) {
          put.run(e.path, e.kind, e.etag, e.remoteSize, e.remoteMtimeMs, e.localSize, e.localMtimeMs, e.localIno, e.placement ?? 'synced');
          placed.run(e.path);
        }
      })();
    });
  }

  /**
   * A download is about to be renamed onto `entry.path`: the row it will have once placed. A kill
   * after the rename and before recordSynced leaves it, and the next pass settles it (pass.ts):
   * the file there is still the one placed -> synced at that version; anything else -> dropped.
   */
  markPlacing(entry: BaseEntry): void {
    checkPath(entry.path);
    this.guard('mark placing', () =>
      this.sql('INSERT OR REPLACE INTO placing (path, kind, etag, remote_size, remote_mtime_ms, local_size, local_mtime_ms, local_ino) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        entry.path,
        entry.kind,
        entry.etag,
        entry.remoteSize,
        entry.remoteMtimeMs,
        entry.localSize,
        entry.localMtimeMs,
        entry.localIno,
      ),
    );
  }

  /** Placements a killed run may not have recorded (markPlacing). */
  placings(): BaseEntry[] {
    const rows = this.guard('read placing', () => this.sql('SELECT * FROM placing ORDER BY path').all() as EntryRow[]);
    return rows.map((r) => {
      const { placement: _placement, ...entry } = toBase({ ...r, placement: 'synced' });
      return entry;
    });
  }

  clearPlacings(paths: readonly string[]): void {
    this.guard('clear placing', () => {
      const del = this.sql('DELETE FROM placing WHERE path = ?');
      this.db.transaction(() => {
        for (const p of paths) del.run(p);
      })();
    });
  }

  /** Drops the rows of exactly these paths. */
  forget(paths: readonly string[]): void {
    this.guard('forget entries', () => {
      const del = this.sql('DELETE FROM entries WHERE path = ?');
      this.db.transaction(() => {
        for (const p of paths) del.run(p);
      })();
    });
  }

  /** Drops the row of `path` and of everything below it. */
  forgetTree(path: string): void {
    this.guard('forget tree', () => {
      if (path === '/') this.sql('DELETE FROM entries').run();
      else this.sql("DELETE FROM entries WHERE path = ? OR (path > ? || '/' AND path < ? || '0')").run(path, path, path);
    });
  }

  /**
   * A folder moved (L4): the rows of `from` and of everything below it now have `to` in place of
   * `from`, their values unchanged; rows already at or below `to` are dropped. The user's pins,
   * pending changes, failures (with their backoff) and conflict records move with it. One
   * transaction, committed with synchronous=FULL (pins are the user's word).
   */
  renameTree(from: string, to: string): void {
    checkPath(from);
    checkPath(to);
    if (from === '/' || to === '/' || from === to) throw new NetfsError('INVALID_ARGUMENT', `cannot rename the journal rows of ${from} to ${to}`);
    if (to.startsWith(`${from}/`) || from.startsWith(`${to}/`)) throw new NetfsError('INVALID_ARGUMENT', `cannot rename the journal rows of ${from} into or out of its own subtree (${to})`);
    const under = (col: string): string => `${col} = ? OR (${col} > ? || '/' AND ${col} < ? || '0')`;
    this.durable('rename tree', () => {
      for (const table of ['entries', 'pins', 'pending', 'failures']) {
        this.sql(`DELETE FROM ${table} WHERE ${under('path')}`).run(to, to, to);
        // substr counts characters, as length() does: the prefix is cut in SQL, not in JS units.
        this.sql(`UPDATE ${table} SET path = ? || substr(path, length(?) + 1) WHERE ${under('path')}`).run(to, from, from, from, from);
      }
      // Conflict copies sit beside their file, so both names move.
      this.sql(`UPDATE conflicts SET path = ? || substr(path, length(?) + 1) WHERE ${under('path')}`).run(to, from, from, from, from);
      this.sql(`UPDATE conflicts SET copy_path = ? || substr(copy_path, length(?) + 1) WHERE ${under('copy_path')}`).run(to, from, from, from, from);
    });
  }

  // ---- pins ----------------------------------------------------------------------------------

  /** `path` and everything below it: synced (always on this device). Works for undiscovered paths. */
  pin(path: string): void {
    this.setPlacement(path, 'synced');
  }

  /** `path` and everything below it: online-only. Works for undiscovered paths. */
  unpin(path: string): void {
    this.setPlacement(path, 'online-only');
  }

  /** Removes the override of `path` itself; it inherits again. */
  clearPin(path: string): void {
    checkPath(path);
    this.durable('clear pin', () => this.sql('DELETE FROM pins WHERE path = ?').run(path));
  }

  /** Sets the placement of a folder or file; the overrides below a folder are cleared (they inherit it). */
  setPlacement(path: string, placement: Placement): void {
    checkPath(path);
    if (placement !== 'synced' && placement !== 'online-only') throw new NetfsError('INVALID_ARGUMENT', `placement must be synced or online-only, not ${JSON.stringify(placement)}`);
    this.durable('set placement', () => {
      if (path === '/') this.sql('DELETE FROM pins').run();
      else this.sql("DELETE FROM pins WHERE path > ? || '/' AND path < ? || '0'").run(path, path);
      this.sql('INSERT OR REPLACE INTO pins (path, placement) VALUES (?, ?)').run(path, placement);
    });
  }

  pins(): Map<string, Placement> {
    const rows = this.guard('read pins', () => this.sql('SELECT path, placement FROM pins ORDER BY path').all() as { path: string; placement: Placement }[]);
    return new Map(rows.map((r) => [r.path, r.placement]));
  }

  /** The placement of `path`: its own pin, else the nearest pinned ancestor's, else 'synced'. */
  placementOf(path: string): Placement {
    return this.placements()(path);
  }

  /** A snapshot of the pins as a function, for one planner pass (pins may change beside the engine). */
  placements(): PlacementOf {
    const pins = this.pins();
    return (path) => {
      const own = pins.get(path);
      if (own !== undefined) return own;
      for (const ancestor of ancestorsOf(path)) {
        const p = pins.get(ancestor);
        if (p !== undefined) return p;
      }
      return 'synced';
    };
  }

  // ---- failures and backoff (issue 5 item 7, F6) ----------------------------------------------

  /**
   * Records a failed attempt at `path`: attempts + 1, next retry after base x 5^(attempts-1) (at
   * most 24 h), or later when the server asked for more (`retryAfterMs`).
   */
  recordFailure(path: string, error: { code: string; message: string; retryAfterMs?: number | undefined }, now = Date.now()): FailureRow {
    return this.guard('record failure', () =>
      this.db.transaction(() => {
        const old = this.failure(path);
        const attempts = (old?.attempts ?? 0) + 1;
        const wait = Math.min(MAX_BACKOFF_MS, Math.max(backoffDelayMs(attempts, this.setting('backoffBaseMs')), error.retryAfterMs ?? 0));
        const row: FailureRow = { path, code: error.code, message: error.message, attempts, firstFailedMs: old?.firstFailedMs ?? now, lastFailedMs: now, nextRetryMs: now + wait };
        this.db
          .prepare('INSERT OR REPLACE INTO failures (path, code, message, attempts, first_failed_ms, last_failed_ms, next_retry_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(row.path, row.code, row.message, row.attempts, row.firstFailedMs, row.lastFailedMs, row.nextRetryMs);
        return row;
      })(),
    );
  }

  failure(path: string): FailureRow | undefined {
    const row = this.guard('read failure', () => this.sql('SELECT * FROM failures WHERE path = ?').get(path) as Record<string, unknown> | undefined);
    return row === undefined ? undefined : toFailure(row);
  }

  failures(): FailureRow[] {
    const rows = this.guard('read failures', () => this.sql('SELECT * FROM failures ORDER BY next_retry_ms, path').all() as Record<string, unknown>[]);
    return rows.map(toFailure);
  }

  /** The item succeeded (or is gone): its failure record goes. */
  clearFailure(path: string): void {
    this.guard('clear failure', () => this.sql('DELETE FROM failures WHERE path = ?').run(path));
  }

  /** A local edit to a failed item: retry at once (the attempt count is kept, so backoff resumes if it fails again). */
  retryNow(path: string): void {
    this.guard('retry now', () => this.sql('UPDATE failures SET next_retry_ms = 0 WHERE path = ?').run(path));
  }

  /** Paths still waiting out their backoff at `now`: the pass skips their actions. */
  inBackoff(now = Date.now()): Set<string> {
    const rows = this.guard('read backoff', () => this.sql('SELECT path FROM failures WHERE next_retry_ms > ?').all(now) as { path: string }[]);
    return new Set(rows.map((r) => r.path));
  }

  // ---- conflicts -----------------------------------------------------------------------------

  addConflict(row: ConflictRow): void {
    this.durable('add conflict', () =>
      this.db
        .prepare('INSERT OR REPLACE INTO conflicts (copy_path, path, created_ms, our_size, our_mtime_ms, their_etag) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row.copyPath, row.path, row.createdMs, row.ourSize, row.ourMtimeMs, row.theirEtag),
    );
  }

  /** Every recorded conflict, oldest first (or those of one path). */
  conflicts(path?: string): ConflictRow[] {
    const rows = this.guard('read conflicts', () =>
      path === undefined
        ? (this.sql('SELECT * FROM conflicts ORDER BY created_ms, copy_path').all() as Record<string, unknown>[])
        : (this.sql('SELECT * FROM conflicts WHERE path = ? ORDER BY created_ms, copy_path').all(path) as Record<string, unknown>[]),
    );
    return rows.map(toConflict);
  }

  /** Removes the record of the conflict whose copy is `copyPath` (the files are the caller's); returns it. */
  resolveConflict(copyPath: string): ConflictRow | undefined {
    return this.durable('resolve conflict', () => {
      const row = this.sql('SELECT * FROM conflicts WHERE copy_path = ?').get(copyPath) as Record<string, unknown> | undefined;
      if (row === undefined) return undefined;
      this.sql('DELETE FROM conflicts WHERE copy_path = ?').run(copyPath);
      return toConflict(row);
    });
  }

  // ---- trash ---------------------------------------------------------------------------------

  addTrash(row: TrashRow): void {
    this.durable('add trash entry', () =>
      this.db
        .prepare('INSERT INTO trash (id, original_path, file_name, kind, size, deleted_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row.id, row.originalPath, row.fileName, row.kind, row.size, row.deletedMs),
    );
  }

  trashEntries(): TrashRow[] {
    const rows = this.guard('read trash', () => this.sql('SELECT * FROM trash ORDER BY deleted_ms, id').all() as Record<string, unknown>[]);
    return rows.map(toTrash);
  }

  trashEntry(id: string): TrashRow | undefined {
    const row = this.guard('read trash entry', () => this.sql('SELECT * FROM trash WHERE id = ?').get(id) as Record<string, unknown> | undefined);
    return row === undefined ? undefined : toTrash(row);
  }

  removeTrash(id: string): void {
    this.durable('remove trash entry', () => this.sql('DELETE FROM trash WHERE id = ?').run(id));
  }

  // ---- settings ------------------------------------------------------------------------------

  setting<K extends SettingKey>(key: K): Settings[K] {
    checkSettingKey(key);
    const row = this.guard('read setting', () => this.sql('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined);
    if (row === undefined) return DEFAULT_SETTINGS[key];
    try {
      return checkSettingValue(key, JSON.parse(row.value));
    } catch {
      return DEFAULT_SETTINGS[key]; // a value this build cannot use: the default, as if unset
    }
  }

  settings(): Settings {
    const out = { ...DEFAULT_SETTINGS };
    for (const key of SETTING_KEYS) out[key] = this.setting(key);
    return out;
  }

  setSetting<K extends SettingKey>(key: K, value: Settings[K]): void {
    checkSettingKey(key);
    checkSettingValue(key, value);
    this.durable('set setting', () => this.sql('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(key, JSON.stringify(value)));
  }

  resetSetting(key: SettingKey): void {
    checkSettingKey(key);
    this.durable('reset setting', () => this.sql('DELETE FROM settings WHERE key = ?').run(key));
  }

  // ---- pending local changes -----------------------------------------------------------------

  markPending(paths: readonly string[], now = Date.now()): void {
    this.guard('mark pending', () => {
      const put = this.sql('INSERT OR IGNORE INTO pending (path, since_ms) VALUES (?, ?)');
      this.db.transaction(() => {
        for (const p of paths) put.run(p, now);
      })();
    });
  }

  clearPending(paths: readonly string[]): void {
    this.guard('clear pending', () => {
      const del = this.sql('DELETE FROM pending WHERE path = ?');
      this.db.transaction(() => {
        for (const p of paths) del.run(p);
      })();
    });
  }

  pending(): Map<string, number> {
    const rows = this.guard('read pending', () => this.sql('SELECT path, since_ms FROM pending ORDER BY path').all() as { path: string; since_ms: number }[]);
    return new Map(rows.map((r) => [r.path, r.since_ms]));
  }

  // ---- internals -----------------------------------------------------------------------------

  /** One transaction committed with synchronous=FULL (the WAL is fsynced before it returns). */
  private durable<T>(op: string, fn: () => T): T {
    return this.guard(op, () => {
      if (this.db.inTransaction) return fn(); // the enclosing batch decides
      this.db.pragma('synchronous = FULL');
      try {
        return this.db.transaction(fn)();
      } finally {
        this.db.pragma(`synchronous = ${this.normal}`);
      }
    });
  }

  /** SQLite errors become NetfsErrors naming the journal and the operation (F19: fail cleanly). */
  private guard<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw ioError(`journal ${this.file}: ${op} failed`, error);
    }
  }
}

/** WAL, the synchronous level, a quick_check (CorruptJournal when it fails) and the migrations. */
function prepare(db: Database.Database, file: string, synchronous: 'NORMAL' | 'FULL', migrations: readonly Migration[]): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  const check = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check);
  if (check.length !== 1 || check[0] !== 'ok') throw new CorruptJournal(`quick_check: ${check.slice(0, 3).join('; ')}`);
  migrate(db, migrations, `journal ${file}`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ioError(message: string, error: unknown): NetfsError {
  if (error instanceof NetfsError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  return new NetfsError(code === 'SQLITE_FULL' ? 'INSUFFICIENT_STORAGE' : 'IO', `${message}: ${detail}`, { cause: error });
}

function toBase(r: EntryRow): BaseEntry {
  return {
    path: r.path,
    kind: r.kind,
    etag: r.etag,
    remoteSize: r.remote_size,
    remoteMtimeMs: r.remote_mtime_ms,
    localSize: r.local_size,
    localMtimeMs: r.local_mtime_ms,
    localIno: r.local_ino,
    placement: r.placement,
  };
}

function toFailure(r: Record<string, unknown>): FailureRow {
  return {
    path: r.path as string,
    code: r.code as string,
    message: r.message as string,
    attempts: r.attempts as number,
    firstFailedMs: r.first_failed_ms as number,
    lastFailedMs: r.last_failed_ms as number,
    nextRetryMs: r.next_retry_ms as number,
  };
}

function toConflict(r: Record<string, unknown>): ConflictRow {
  return {
    path: r.path as string,
    copyPath: r.copy_path as string,
    createdMs: r.created_ms as number,
    ourSize: r.our_size as number,
    ourMtimeMs: r.our_mtime_ms as number,
    theirEtag: r.their_etag as string | null,
  };
}

function toTrash(r: Record<string, unknown>): TrashRow {
  return {
    id: r.id as string,
    originalPath: r.original_path as string,
    fileName: r.file_name as string,
    kind: r.kind as 'file' | 'folder',
    size: r.size as number,
    deletedMs: r.deleted_ms as number,
  };
}

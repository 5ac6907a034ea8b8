/**
 * What every propagation step shares: the two sides, the engine, and the journal and trash
 * ports it records into.
 *
 *   propagate.ts (schedule, error policy) --> propagate-*.ts (one action each) --> ports
 */
import type { Capabilities, RemoteEntry } from '../api/remote.js';
import type { NetfsEngine } from '../netfs/engine.js';
import type { RemoteBackend } from '../remote/backend.js';
import type { BaseEntry } from './model.js';

/** What propagation writes to the journal (journal.ts implements it). */
export interface JournalPort {
  recordSynced(entries: readonly BaseEntry[]): void;
  recordOnlineOnly(entries: readonly RemoteEntry[]): void;
  /** Drops the rows of these paths (and of everything below them). */
  forget(paths: readonly string[]): void;
  /** A folder moved: the rows of `from` and below now sit at `to`, values unchanged (one transaction). */
  renameTree(from: string, to: string): void;
  recordFailure(path: string, error: { code: string; message: string }): void;
  clearFailure(path: string): void;
  addConflict(conflict: { path: string; copyPath: string; theirEtag: string | null; ourSize: number; ourMtimeMs: number }): void;
  /** A download is about to be renamed into place: the row it will have (settled by the next pass after a kill). */
  markPlacing(entry: BaseEntry): void;
}

/** The staged file about to be renamed onto its destination (its inode survives the rename). */
export interface StagedFile {
  ino: number;
  size: number;
  mtimeMs: number;
}

/** Where local files go when the server deleted them (trash.ts implements it). */
export interface TrashPort {
  trash(localFile: string, path: string): Promise<unknown>;
}

/** Where a staged download is placed (cache staging, or a plain staging folder). */
export interface DownloadPort {
  /**
   * Fetches the server's `remote` file through the engine and places it at `dest` only if
   * `stillExpected()` holds at the moment of placing; resolves false when it did not (nothing
   * touched then). Sets the file's mtime to the server's. Never touches `dest` on error.
   */
  fetchAndPlace(remote: RemoteEntry, dest: string, stillExpected: () => Promise<boolean>, signal?: AbortSignal, beforePlace?: (staged: StagedFile) => void): Promise<boolean>;
}

export interface PropagateContext {
  root: string;
  backend: RemoteBackend;
  engine: NetfsEngine;
  caps: Capabilities;
  journal: JournalPort;
  trash: TrashPort;
  downloads: DownloadPort;
  /** Local time for conflict names. */
  now(): Date;
  signal?: AbortSignal;
  /** Aborted when the engine is stopping: no new action starts, running ones finish (C7). */
  draining?: AbortSignal;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

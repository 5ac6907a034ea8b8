/**
 * The local watcher: chokidar on the sync root, turned into "changed paths" batches after a
 * quiet time, plus a periodic full rescan that also covers a watcher that broke (F16).
 *
 *   chokidar (fs.watch / inotify; symlinks never followed)
 *      | add, addDir, change, unlink, unlinkDir,         | 'error' (e.g. ENOSPC from inotify_add_watch)
 *      | and raw inotify events (an mtime-keeping edit)  |
 *      v                                                 v
 *   remote form '/a/b'; drop top-level .netfs*,        degraded = { since, reason }: logged once,
 *   bad names, and what ignore(path, kind) says        'degraded' emitted, a rescan requested at
 *   (for the path and each folder above it)            once and then every degradedRescanIntervalMs
 *      |
 *   pending set ── quiet for debounceMs ──────────┐
 *      |        ── or maxDelayMs since the first ─┴──> 'changes' { paths }   (a storm: few batches)
 *      |        ── more than maxBatchPaths ──────────> 'rescan' { reason: 'overflow' }
 *   every rescanIntervalMs ──────────────────────────> 'rescan' { reason: 'interval' }
 *
 * Paths in a batch are what changed (created, modified, deleted, renamed from or to); a folder
 * path means its subtree may have changed too. The consumer looks at the disk again: a batch
 * is a hint, never the truth. close() stops chokidar and every timer.
 */
import { EventEmitter } from 'node:events';
import type { Stats } from 'node:fs';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { NetfsError } from '../api/errors.js';
import { nameProblem } from '../remote/path.js';
import { CLIENT_PREFIX, type IgnorePredicate } from './discover-local.js';

export const DEFAULT_DEBOUNCE_MS = 1_000;
export const DEFAULT_RESCAN_INTERVAL_MS = 60 * 60 * 1_000;
/** While degraded, full rescans come at least this often (the hourly default is too slow then). */
export const DEFAULT_DEGRADED_RESCAN_MS = 5 * 60 * 1_000;

export interface SyncWatcherOptions {
  /** The sync folder (absolute). */
  root: string;
  ignore?: IgnorePredicate;
  /** Quiet time after the last event before a batch goes out (default 1 s). */
  debounceMs?: number;
  /** A batch goes out at the latest this long after its first event, even if events keep coming (default 10 × debounce). */
  maxDelayMs?: number;
  /** Periodic full rescan (default 1 h). */
  rescanIntervalMs?: number;
  /** Full rescans while the watcher is broken (default: the rescan interval, at most 5 min). */
  degradedRescanIntervalMs?: number;
  /** More changed paths than this in one batch: a full rescan is asked for instead (default 100,000). */
  maxBatchPaths?: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface ChangeBatch {
  /** Remote-form paths, sorted, each once. */
  paths: string[];
}

export type RescanReason = 'interval' | 'degraded' | 'overflow' | 'root';

export interface Degraded {
  /** When the watcher broke (ms since the epoch). */
  since: number;
  /** What broke it, e.g. "ENOSPC: inotify watch limit reached". */
  reason: string;
}

export interface SyncWatcherEvents {
  changes: [ChangeBatch];
  rescan: [{ reason: RescanReason }];
  degraded: [Degraded];
  ready: [];
}

export class SyncWatcher extends EventEmitter<SyncWatcherEvents> {
  readonly root: string;
  readonly debounceMs: number;
  readonly maxDelayMs: number;
  readonly rescanIntervalMs: number;
  readonly degradedRescanIntervalMs: number;
  readonly maxBatchPaths: number;

  #ignore: IgnorePredicate;
  #log: (level: 'info' | 'warn', message: string) => void;
  #chokidar: FSWatcher;
  #pending = new Set<string>();
  #overflow = false;
  #quiet: NodeJS.Timeout | null = null;
  #deadline: NodeJS.Timeout | null = null;
  #rescan: NodeJS.Timeout | null = null;
  #degraded: Degraded | null = null;
  #watchErrors = 0;
  #closed = false;
  #ready: Promise<void>;

  constructor(options: SyncWatcherOptions) {
    super();
    if (!isAbsolute(options.root)) throw new NetfsError('INVALID_ARGUMENT', `watcher: the sync folder must be an absolute path, not ${JSON.stringify(options.root)}`);
    this.root = options.root;
    this.debounceMs = positive(options.debounceMs ?? DEFAULT_DEBOUNCE_MS, 'debounceMs');
    this.maxDelayMs = positive(options.maxDelayMs ?? this.debounceMs * 10, 'maxDelayMs');
    this.rescanIntervalMs = positive(options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS, 'rescanIntervalMs');
    this.degradedRescanIntervalMs = positive(
      options.degradedRescanIntervalMs ?? Math.min(this.rescanIntervalMs, DEFAULT_DEGRADED_RESCAN_MS),
      'degradedRescanIntervalMs',
    );
    this.maxBatchPaths = positive(options.maxBatchPaths ?? 100_000, 'maxBatchPaths');
    this.#ignore = options.ignore ?? (() => false);
    this.#log = options.log ?? (() => {});

    this.#chokidar = watch(this.root, {
      persistent: true,
      ignoreInitial: true,
      followSymlinks: false,
      atomic: false, // editor temp names are the ignore predicate's business, not chokidar's
      // A folder we may not read is the scan's UNREADABLE problem, not a broken watcher.
      ignorePermissionErrors: true,
      ignored: (path: string, stats?: Stats) => this.#ignoredByChokidar(path, stats),
    });
    this.#ready = new Promise<void>((resolve) => this.#chokidar.once('ready', () => resolve()));
    this.#ready.then(() => {
      if (!this.#closed) this.emit('ready');
    }, () => {});
    this.#chokidar.on('all', (event, path) => this.#onEvent(event, path));
    this.#chokidar.on('raw', (_event, name, details) => this.#onRaw(name, details));
    this.#chokidar.on('error', (error) => this.#onError(error));
    this.#scheduleRescan();
  }

  /** Resolves once the initial crawl is done and every watch is set (or failed). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Null while the watcher works; else since when and why it does not. */
  get degraded(): Degraded | null {
    return this.#degraded;
  }

  /** How many watch errors chokidar reported (the first one made the watcher degraded). */
  get watchErrors(): number {
    return this.#watchErrors;
  }

  /** Stops watching; no event and no timer is left. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of [this.#quiet, this.#deadline, this.#rescan]) if (timer !== null) clearTimeout(timer);
    this.#quiet = this.#deadline = this.#rescan = null;
    this.#pending.clear();
    // chokidar leaves its throttle timers (up to 1 s each) running after close(): clear them first.
    for (const byPath of this.#chokidar._throttled.values()) {
      for (const throttler of byPath.values()) (throttler as { clear?: () => unknown }).clear?.();
    }
    await this.#chokidar.close();
    // Closed inotify handles go away in libuv's close phase: let it run, so none outlives close().
    for (let turn = 0; turn < 2; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** The remote form of a path chokidar gives ('/a/b'), '/' for the root, or null when outside. */
  toRemote(diskPath: string): string | null {
    const rel = relative(this.root, diskPath);
    if (rel === '') return '/';
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return null;
    return `/${rel.split(sep).join('/')}`;
  }

  #ignoredByChokidar(diskPath: string, stats: Stats | undefined): boolean {
    const path = this.toRemote(diskPath);
    if (path === null || path === '/') return false;
    const names = path.slice(1).split('/');
    if (names[0]!.startsWith(CLIENT_PREFIX)) return true;
    // Without stats the kind is unknown: let it through, the event filter decides.
    if (stats === undefined || stats.isSymbolicLink()) return false;
    return this.#ignore(path, stats.isDirectory() ? 'folder' : 'file');
  }

  /** Whether an event on `path` (of `kind`) is one the sync cares about. */
  #wanted(path: string, kind: 'file' | 'folder'): boolean {
    const names = path.slice(1).split('/');
    if (names[0]!.startsWith(CLIENT_PREFIX)) return false;
    if (names.some((n) => nameProblem(n) !== null)) return false;
    let at = '';
    for (const [i, name] of names.entries()) {
      at += `/${name}`;
      if (this.#ignore(at, i === names.length - 1 ? kind : 'folder')) return false;
    }
    return true;
  }

  #onEvent(event: string, diskPath: string): void {
    if (this.#closed) return;
    const path = this.toRemote(diskPath);
    if (path === null) return;
    if (path === '/') {
      if (event === 'unlinkDir') this.#requestRescan('root'); // F17: the pass finds the root missing
      return;
    }
    const kind = event === 'addDir' || event === 'unlinkDir' ? 'folder' : 'file';
    if (!this.#wanted(path, kind)) return;
    this.#add(path);
  }

  /**
   * inotify's own events, before chokidar filters them: chokidar drops a 'change' whose mtime
   * did not move (an edit that keeps the mtime but changes the size), the sync must not. A
   * folder's watch names the child; a file's own watch names the file itself (its base name).
   */
  #onRaw(name: string | null | undefined, details: unknown): void {
    if (this.#closed) return;
    const watched = (details as { watchedPath?: unknown } | null)?.watchedPath;
    if (typeof watched !== 'string') return;
    const disk = name === null || name === undefined || name === '' || basename(watched) === name ? watched : join(watched, name);
    const path = this.toRemote(disk);
    if (path === null || path === '/') return;
    // The kind is not known here: a path ignored as a file or as a folder is left to the other events.
    if (!this.#wanted(path, 'file') || !this.#wanted(path, 'folder')) return;
    this.#add(path);
  }

  #add(path: string): void {
    if (!this.#overflow) {
      this.#pending.add(path);
      if (this.#pending.size > this.maxBatchPaths) {
        this.#overflow = true;
        this.#pending.clear();
      }
    }
    if (this.#quiet !== null) clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#flush(), this.debounceMs);
    this.#deadline ??= setTimeout(() => this.#flush(), this.maxDelayMs);
  }

  #flush(): void {
    if (this.#quiet !== null) clearTimeout(this.#quiet);
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    this.#quiet = this.#deadline = null;
    if (this.#closed) return;
    if (this.#overflow) {
      this.#overflow = false;
      this.#log('info', `more than ${this.maxBatchPaths} paths changed at once: a full rescan is asked for instead of a list`);
      this.emit('rescan', { reason: 'overflow' });
      return;
    }
    if (this.#pending.size === 0) return;
    const paths = [...this.#pending].sort();
    this.#pending.clear();
    this.emit('changes', { paths });
  }

  #onError(error: unknown): void {
    if (this.#closed) return;
    this.#watchErrors++;
    if (this.#degraded !== null) return;
    const code = (error as { code?: unknown } | null)?.code;
    const text = error instanceof Error ? error.message : String(error);
    const reason = code === 'ENOSPC' ? `ENOSPC: inotify watch limit reached (${text})` : text;
    this.#degraded = { since: Date.now(), reason };
    this.#log(
      'warn',
      `file watcher failed (${reason}); degraded mode: changes are found by a full rescan every ${Math.round(this.degradedRescanIntervalMs / 1000)} s`,
    );
    this.emit('degraded', this.#degraded);
    this.#requestRescan('degraded');
    this.#scheduleRescan();
  }

  #requestRescan(reason: RescanReason): void {
    if (!this.#closed) this.emit('rescan', { reason });
  }

  #scheduleRescan(): void {
    if (this.#rescan !== null) clearTimeout(this.#rescan);
    const every = this.#degraded === null ? this.rescanIntervalMs : this.degradedRescanIntervalMs;
    this.#rescan = setTimeout(() => {
      this.#rescan = null;
      if (this.#closed) return;
      this.#requestRescan(this.#degraded === null ? 'interval' : 'degraded');
      this.#scheduleRescan();
    }, every);
  }
}

/** setTimeout's limit (about 24.8 days); longer delays would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new NetfsError('INVALID_ARGUMENT', `watcher: ${name} must be a positive number, not ${value}`);
  return Math.min(value, MAX_TIMER_MS);
}

/**
 * The continuous sync (`netfs-sync sync` without --once, and the app): passes one at a time,
 * started by local changes, a remote poll, the periodic rescan, the end of a backoff, and
 * reconnection after the server was unreachable.
 *
 *   SyncWatcher 'changes' ─┐  (a changed path in backoff is retried at once)
 *   SyncWatcher 'rescan'  ─┤
 *   poll (remotePollMs)   ─┼──> request() ──> one pass at a time; a request during a pass
 *   next retry due        ─┤                  runs one more pass after it
 *   offline backoff       ─┘                  (UNREACHABLE: 2 s, 4 s, … at most 5 min)
 *
 *   stop(): no new pass; the running one is cancelled (its transfers end as CANCELLED, the
 *   journal holds what finished) and awaited; resolves within 30 s.
 */
import { EventEmitter } from 'node:events';
import { isNetfsError } from '../api/errors.js';
import type { PassReport } from './pass.js';
import type { SyncSession } from './session.js';
import { SyncWatcher } from './watcher.js';
import { IgnoreRules } from './ignore.js';

const OFFLINE_FIRST_MS = 2_000;
const OFFLINE_MAX_MS = 5 * 60_000;

export type LoopStatus =
  | { state: 'idle'; lastPassMs: number | null }
  | { state: 'syncing'; sinceMs: number }
  | { state: 'paused' }
  | { state: 'offline'; sinceMs: number; lastError: string; nextTryMs: number }
  | { state: 'held'; reason: string; message: string }
  | { state: 'error'; code: string; message: string };

export interface SyncLoopEvents {
  pass: [PassReport];
  status: [LoopStatus];
  error: [Error];
}

export interface SyncLoopOptions {
  pollMs?: number;
  /** Carry out held plans without asking (`sync --yes`). */
  confirmed?: boolean;
}

export class SyncLoop extends EventEmitter<SyncLoopEvents> {
  readonly session: SyncSession;
  #watcher: SyncWatcher | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #paused = false;
  #abort: AbortController | null = null;
  /** Aborted by stop(): the running pass lets what it started finish and starts nothing new. */
  readonly #draining = new AbortController();
  #timers = new Set<NodeJS.Timeout>();
  #poll: NodeJS.Timeout | null = null;
  #statsTimer: NodeJS.Timeout | null = null;
  #offlineSince: number | null = null;
  #offlineWait = OFFLINE_FIRST_MS;
  #status: LoopStatus = { state: 'idle', lastPassMs: null };
  readonly #pollMs: number | undefined;
  readonly #confirmed: boolean;

  constructor(session: SyncSession, options: SyncLoopOptions = {}) {
    super();
    this.session = session;
    this.#pollMs = options.pollMs;
    this.#confirmed = options.confirmed ?? false;
  }

  get status(): LoopStatus {
    return this.#status;
  }

  #setStatus(s: LoopStatus): void {
    this.#status = s;
    this.emit('status', s);
  }

  async start(): Promise<void> {
    const settings = this.session.journal.settings();
    const ignore = await IgnoreRules.load(this.session.root);
    this.#watcher = new SyncWatcher({
      root: this.session.root,
      ignore: (p, k) => ignore.isIgnored(p, k),
      debounceMs: Math.max(1, settings.debounceMs),
      rescanIntervalMs: settings.rescanIntervalMs,
      log: (level, message) => this.session.log[level](message),
    });
    this.#watcher.on('changes', (batch) => {
      for (const p of batch.paths) this.session.journal.retryNow(p);
      this.request();
    });
    this.#watcher.on('rescan', () => this.request());
    this.#watcher.on('degraded', (d) => this.session.log.warn({ since: d.since, reason: d.reason }, 'watcher broken: periodic full scans only'));
    this.#poll = setInterval(() => this.request(), this.#pollMs ?? settings.remotePollMs);
    this.#statsTimer = setInterval(() => void this.session.saveStats(), 5_000);
    this.request();
  }

  pause(): void {
    this.#paused = true;
    this.#abort?.abort(new Error('paused'));
    this.#setStatus({ state: 'paused' });
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#setStatus({ state: 'idle', lastPassMs: null });
    this.request();
  }

  /** Asks for a pass (now, or right after the running one). */
  request(): void {
    if (this.#stopped || this.#paused) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = null;
    });
  }

  /** Resolves when no pass runs (tests, `sync` shutdown). */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  #after(ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.request();
    }, ms);
    this.#timers.add(t);
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      if (this.#stopped || this.#paused) return;
      this.#abort = new AbortController();
      this.#setStatus({ state: 'syncing', sinceMs: Date.now() });
      try {
        const report = await this.session.pass({ confirmed: this.#confirmed, dryRun: false, signal: this.#abort.signal, draining: this.#draining.signal });
        this.#offlineSince = null;
        this.#offlineWait = OFFLINE_FIRST_MS;
        this.emit('pass', report);
        if (report.held !== null) {
          this.#setStatus({ state: 'held', reason: report.held.reason, message: report.held.message });
          continue;
        }
        this.#setStatus({ state: 'idle', lastPassMs: Date.now() });
        if ((report.result?.skipped ?? 0) > 0) this.#again = true;
        const nextRetry = Math.min(...report.waiting.map((w) => w.nextRetryMs), ...this.session.journal.failures().map((f) => f.nextRetryMs));
        if (Number.isFinite(nextRetry)) this.#after(Math.max(100, nextRetry - Date.now()));
      } catch (e) {
        if (this.#stopped || this.#paused) return;
        if (isNetfsError(e) && e.code === 'UNREACHABLE') {
          this.#offlineSince ??= Date.now();
          const wait = this.#offlineWait;
          this.#offlineWait = Math.min(OFFLINE_MAX_MS, this.#offlineWait * 2);
          this.#setStatus({ state: 'offline', sinceMs: this.#offlineSince, lastError: e.message, nextTryMs: Date.now() + wait });
          this.#after(wait);
        } else {
          const err = e as Error;
          this.session.log.error({ err }, 'sync pass failed');
          this.#setStatus({ state: 'error', code: isNetfsError(e) ? e.code : 'IO', message: err.message });
          this.emit('error', err);
          this.#after(isNetfsError(e) && e.retryAfterMs !== undefined ? e.retryAfterMs : (this.#pollMs ?? this.session.journal.setting('remotePollMs')));
        }
      } finally {
        this.#abort = null;
      }
    } while (this.#again && !this.#stopped);
  }

  /**
   * Stops: no new pass; in the running one, transfers under way finish and are recorded while
   * nothing new starts (C7: no lost answers), cancelled if still running 5 s before `graceMs`.
   */
  async stop(graceMs = 30_000): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.#poll !== null) clearInterval(this.#poll);
    if (this.#statsTimer !== null) clearInterval(this.#statsTimer);
    this.#draining.abort(new Error('stopping'));
    await this.#watcher?.close();
    const running = this.#running;
    if (running !== null) {
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((r) => (drainTimer = setTimeout(r, Math.max(0, graceMs - 5_000))))]);
      clearTimeout(drainTimer);
      this.#abort?.abort(new Error('stopping'));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((r) => (timer = setTimeout(r, Math.min(graceMs, 5_000))))]);
      clearTimeout(timer);
    }
  }
}

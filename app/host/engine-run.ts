/**
 * One running engine for the app: the sync session (engine lock, journal, engine, cache), the
 * continuous sync loop (watching), and the feeds of every event stream.
 *
 *   SyncSession.open(state, { engine: true })  ── takes the engine lock ("already running (pid N)")
 *   SyncLoop ── 'status' ──> sync.status          engine.onSnapshot (<= 10/s) ──> transfers (+ throughput)
 *            ── 'pass'   ──> counts, retries,                                 ──> retries (trace: BACKOFF, RETRY)
 *                            cache.occupancy      LogTail (logs/netfs-sync.log) ──> log
 *   tick (1 s): throughput decays to 0, cache occupancy re-read; published when changed
 *
 *   exclusive(fn): waits until no pass runs, holds the loop (pause: nothing is aborted), runs fn
 *   (hydrate a file, a confirmed pass), then lets the loop go on unless the user paused it.
 *   Exclusive sections run one at a time.
 */
import type { SyncState, SyncStatus } from '../api/contract.js';
import type { FailureInfo } from '../api/entries.js';
import { cachedLookup } from '../sync/entry-info.js';
import type { NetfsSnapshot } from '../netfs/events.js';
import { listEntries } from '../sync/entry-info.js';
import { lastPass, type LastPass } from '../sync/last-pass.js';
import { SyncSession } from '../sync/session.js';
import { SyncLoop } from '../sync/sync-loop.js';
import { cacheSummary } from './cache-view.js';
import type { EventHub } from './event-hub.js';
import { LogTail, type LogLine } from './log-tail.js';
import { buildStatus, countStates } from './status.js';
import { Throughput } from './throughput.js';

export interface RunOptions {
  now?: () => Date;
  /** How often the loop polls the server (default: the loop's 30 s). */
  pollMs?: number;
}

interface RequestRetry {
  timeMs: number;
  path: string;
  waitMs: number;
  reason: string;
}

const KEEP_RETRIES = 50;
const TICK_MS = 1000;

export class EngineRun {
  readonly session: SyncSession;
  readonly loop: SyncLoop;
  readonly #hub: EventHub;
  readonly #throughput = new Throughput();
  readonly #logTail: LogTail;
  readonly #retries: RequestRetry[] = [];
  readonly #paths = new Map<number, string>();
  #traceSeq = 0;
  #counts: Record<string, number> = {};
  #lastPass: LastPass | null = null;
  #userPaused = false;
  #heldSince: number | null = null;
  #exclusive: Promise<unknown> = Promise.resolve();
  #unsubscribe: () => void = () => undefined;
  #tick: NodeJS.Timeout | null = null;
  #lastRates = '';
  #lastCache = '';
  #counting: Promise<void> | null = null;
  #countAgain = false;
  #stopped = false;

  private constructor(session: SyncSession, hub: EventHub, options: RunOptions) {
    this.session = session;
    this.#hub = hub;
    this.loop = new SyncLoop(session, options.pollMs === undefined ? {} : { pollMs: options.pollMs });
    this.#logTail = new LogTail(session.state.logsDir, session.state.password === null ? [] : [session.state.password], (lines) => hub.publish('log', { lines: [...lines] }));
  }

  /** Opens the session (taking the engine lock) and starts watching. */
  static async start(stateDir: string, hub: EventHub, options: RunOptions = {}): Promise<EngineRun> {
    const session = await SyncSession.open(stateDir, { engine: true, ...(options.now === undefined ? {} : { now: options.now }) });
    const run = new EngineRun(session, hub, options);
    try {
      await run.#begin();
    } catch (e) {
      await run.stop();
      throw e;
    }
    return run;
  }

  async #begin(): Promise<void> {
    this.loop.on('status', () => this.publishStatus());
    this.loop.on('pass', () => void this.#afterPass());
    // A failed pass is shown through 'status'; without a listener an 'error' event would throw.
    this.loop.on('error', () => undefined);
    this.#unsubscribe = this.session.engine.onSnapshot((s) => this.#onSnapshot(s));
    this.#lastPass = await lastPass(this.session.state.dir);
    await this.refreshCounts();
    this.publishStatus();
    this.#hub.publish('transfers', { transfers: [], rateDown: 0, rateUp: 0 });
    this.publishRetries();
    await this.publishCache();
    this.#hub.publish('log', { lines: [] });
    this.#logTail.start();
    this.#tick = setInterval(() => void this.#onTick(), TICK_MS);
    this.#tick.unref();
    await this.loop.start();
  }

  /** The newest log lines (scrubbed), for the support bundle. */
  get logLines(): readonly LogLine[] {
    return this.#logTail.lines;
  }

  get account(): { remote: string; user: string | null; local: string } {
    const a = this.session.state.account;
    return { remote: a.remote, user: a.user, local: this.session.root };
  }

  #syncState(): SyncState {
    if (this.#heldSince !== null) return { state: 'syncing', sinceMs: this.#heldSince };
    if (this.#userPaused) return { state: 'paused' };
    return this.loop.status;
  }

  status(): SyncStatus {
    return buildStatus({ account: this.account, sync: this.#syncState(), lastPass: this.#lastPass, counts: this.#counts, rates: this.#throughput.rates(Date.now()) });
  }

  publishStatus(): void {
    if (!this.#stopped) this.#hub.publish('sync.status', this.status());
  }

  failures(): FailureInfo[] {
    return this.session.journal.failures();
  }

  publishRetries(): void {
    if (!this.#stopped) this.#hub.publish('retries', { failures: this.failures(), requestRetries: [...this.#retries] });
  }

  async publishCache(): Promise<void> {
    const store = this.session.cache;
    const summary = store === null ? null : cacheSummary(await store.inspect());
    const text = JSON.stringify(summary);
    if (text === this.#lastCache || this.#stopped) return;
    this.#lastCache = text;
    this.#hub.publish('cache.occupancy', { summary });
  }

  /** Files per state, recomputed (one at a time; a request meanwhile runs once more after). */
  async refreshCounts(): Promise<void> {
    if (this.#counting !== null) {
      this.#countAgain = true;
      return this.#counting;
    }
    this.#counting = (async () => {
      do {
        this.#countAgain = false;
        const entries = await listEntries(this.session.journal, this.session.root, '/', { recursive: true, cached: cachedLookup(this.session) }).catch(() => null);
        if (entries !== null) this.#counts = countStates(entries);
      } while (this.#countAgain && !this.#stopped);
    })().finally(() => {
      this.#counting = null;
    });
    await this.#counting;
    this.publishStatus();
  }

  /** Something changed that the next pass should carry out (pin, unpin, retry, resolve …). */
  requestPass(): void {
    this.loop.request();
  }

  pause(): void {
    this.#userPaused = true;
    this.loop.pause();
    this.publishStatus();
  }

  resume(): void {
    this.#userPaused = false;
    if (this.#heldSince === null) this.loop.resume();
    this.publishStatus();
  }

  get paused(): boolean {
    return this.#userPaused;
  }

  /** Runs `fn` while no pass runs (see the header). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      await this.loop.idle();
      this.#heldSince = Date.now();
      this.loop.pause();
      this.publishStatus();
      try {
        return await fn();
      } finally {
        this.#heldSince = null;
        if (!this.#userPaused && !this.#stopped) this.loop.resume();
        this.publishStatus();
      }
    };
    const p = this.#exclusive.then(run, run);
    this.#exclusive = p.catch(() => undefined);
    return p;
  }

  async #afterPass(): Promise<void> {
    this.#lastPass = await lastPass(this.session.state.dir);
    this.publishRetries();
    await this.refreshCounts();
    await this.publishCache().catch(() => undefined);
  }

  #onSnapshot(s: NetfsSnapshot): void {
    if (this.#stopped) return;
    for (const r of s.requests) {
      this.#paths.delete(r.debugId);
      this.#paths.set(r.debugId, r.path);
    }
    while (this.#paths.size > 2000) {
      const oldest = this.#paths.keys().next().value;
      if (oldest === undefined) break;
      this.#paths.delete(oldest);
    }
    let retried = false;
    const events = this.session.engine.trace(this.#traceSeq);
    this.#throughput.observe(s.timeMs, events);
    for (const e of events) {
      this.#traceSeq = e.seq;
      const isPacer = e.kind === 'pacer' && (e.what === 'BACKOFF' || e.what === 'TOO-LONG');
      if (!isPacer && e.what !== 'RETRY') continue;
      const wait = isPacer ? Number.parseInt(e.note ?? '', 10) : 0;
      this.#retries.push({
        timeMs: e.timeMs,
        path: this.#paths.get(e.rreq) ?? `(request ${e.rreq})`,
        waitMs: Number.isFinite(wait) ? wait : 0,
        reason: `${e.what}${e.error === undefined ? '' : ` ${e.error}`}${e.note === undefined ? '' : `: ${e.note}`}`,
      });
      retried = true;
    }
    if (this.#retries.length > KEEP_RETRIES) this.#retries.splice(0, this.#retries.length - KEEP_RETRIES);
    const rates = this.#throughput.rates(s.timeMs);
    this.#lastRates = JSON.stringify(rates);
    this.#hub.publish('transfers', { transfers: s.requests.map((r) => ({ ...r, subrequests: r.subrequests.map((x) => ({ ...x })) })), ...rates });
    this.publishStatus();
    if (retried) this.publishRetries();
  }

  async #onTick(): Promise<void> {
    if (this.#stopped) return;
    const rates = this.#throughput.rates(Date.now());
    const text = JSON.stringify(rates);
    if (text !== this.#lastRates) {
      this.#lastRates = text;
      this.#hub.publish('transfers', { transfers: this.session.engine.requests(), ...rates });
      this.publishStatus();
    }
    await this.publishCache().catch(() => undefined);
  }

  /** Stops the loop (the running pass is cancelled, at most 30 s), then closes the session. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#tick !== null) clearInterval(this.#tick);
    this.#logTail.stop();
    this.#unsubscribe();
    await this.loop.stop(graceMs);
    await Promise.race([this.#exclusive, new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.session.close();
  }
}

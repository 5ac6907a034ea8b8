/**
 * Everything one state folder runs on, opened together and closed together.
 *
 *   SyncSession.open(state, { engine: true, lock: true })        `sync`, `serve`
 *     state folder -> engine lock (one engine per state folder) -> journal (moved aside if
 *     corrupt) -> log -> backend (throttled by the bandwidth settings) -> netfs engine
 *     -> staged downloads (leftovers cleaned) -> trash (entries over 30 days purged)
 *   SyncSession.open(state, { engine: false })                   `status`, `ls`, `conflicts` …
 *     state folder -> journal (a corrupt one is reported, not moved: the engine owns it)
 *
 *   session.pass({ confirmed, dryRun })  one sync pass (pass.ts)
 */
import type { Logger } from 'pino';
import { NetfsError, isNetfsError } from '../api/errors.js';
import { unprobedCapabilities } from '../api/capabilities.js';
import type { Capabilities } from '../api/remote.js';
import { NetfsEngine } from '../netfs/engine.js';
import type { RemoteBackend } from '../remote/backend.js';
import { cachedCapabilities } from './capabilities-cache.js';
import { CacheStore } from '../cache/store.js';
import { CachedDownloads } from './download-cached.js';
import { dehydrate } from './dehydrate.js';
import { IgnoreRules } from './ignore.js';
import { Journal } from './journal.js';
import { journalPort } from './journal-port.js';
import { EngineLock } from './lock.js';
import { openLog } from './log.js';
import { saveLastPass } from './last-pass.js';
import { saveStats } from './stats-file.js';
import { runPass, type PassReport } from './pass.js';
import { openRemote } from './remote-of.js';
import { retryingBackend } from './retrying-backend.js';
import { openStateFolder, type StateFolder } from './state-folder.js';
import { throttledBackend, rsizeFor } from './throttled-backend.js';
import { TokenBucket } from './token-bucket.js';
import { Trash } from './trash.js';

export interface SessionOptions {
  /** Open the backend and the engine (and take the engine lock, unless `lock` is false). */
  engine: boolean;
  /**
   * With `engine`: take the engine lock (default true). 'if-free': take it when no engine runs
   * (then the cache is used), else run without it and without the cache (`read` beside a sync).
   */
  lock?: boolean | 'if-free';
  /** Clock (tests). */
  now?: () => Date;
}

/** What a server is assumed to do before it could be probed: nothing that was not seen. */
const LEAST_CAPABILITIES: Capabilities = unprobedCapabilities(['not probed yet: the server could not be reached']);

interface EngineParts {
  lock: EngineLock | null;
  backend: RemoteBackend;
  engine: NetfsEngine;
  caps: Capabilities;
  /** Staged downloads (with the lock only: they write the cache). */
  downloads: CachedDownloads | null;
  /** The content store; null for an engine without the lock (`read` beside a running sync). */
  cache: CacheStore | null;
  down: TokenBucket;
  up: TokenBucket;
}

function tryLock(dir: string): EngineLock | null {
  try {
    return EngineLock.acquire(dir);
  } catch (e) {
    if (isNetfsError(e) && e.code === 'CONFLICT') return null;
    throw e;
  }
}

export class SyncSession {
  readonly state: StateFolder;
  readonly journal: Journal;
  readonly log: Logger;
  readonly trash: Trash;
  readonly now: () => Date;
  #parts: EngineParts | null;

  private constructor(state: StateFolder, journal: Journal, log: Logger, parts: EngineParts | null, now: () => Date) {
    this.state = state;
    this.journal = journal;
    this.log = log;
    this.trash = new Trash(state.dir, journal);
    this.#parts = parts;
    this.now = now;
  }

  static async open(stateDir: string, options: SessionOptions): Promise<SyncSession> {
    const state = await openStateFolder(stateDir);
    const now = options.now ?? (() => new Date());
    const lock = !options.engine || options.lock === false ? null : options.lock === 'if-free' ? tryLock(state.dir) : EngineLock.acquire(state.dir);
    let journal: Journal | null = null;
    let backend: RemoteBackend | null = null;
    let cache: CacheStore | null = null;
    try {
      journal = Journal.open(state.journalFile, { onCorrupt: options.engine ? 'move-aside' : 'throw' });
      const log = openLog({ dir: state.logsDir, secrets: state.password === null ? [] : [state.password] });
      if (journal.openReport.reset !== null) {
        log.warn({ movedTo: journal.openReport.reset.movedTo, reason: journal.openReport.reset.reason }, 'journal was corrupt: moved aside, starting fresh (every path compared again, nothing deleted)');
      }
      if (!options.engine) return new SyncSession(state, journal, log, null, now);
      const settings = journal.settings();
      const down = new TokenBucket(settings.bandwidthDownBytesPerSec);
      const up = new TokenBucket(settings.bandwidthUpBytesPerSec);
      // Listings, stats, MKCOL and DELETE are sent again when their connection drops (F1).
      const inner = retryingBackend(await openRemote({ remote: state.account.remote, user: state.account.user, password: state.password, ca: state.account.ca }));
      backend = inner;
      const caps = await cachedCapabilities(state.dir, state.account.remote, inner).catch((e: unknown) => {
        // Offline with nothing probed yet: assume the least (every precondition re-checked).
        if (isNetfsError(e) && e.code === 'UNREACHABLE') return LEAST_CAPABILITIES;
        throw e;
      });
      // Always behind the token buckets (a rate of 0 lets everything through), so a limit set
      // while the engine runs applies at the next pass.
      const engine = new NetfsEngine({
        backend: throttledBackend(inner, down, up),
        limits: { rsize: rsizeFor(settings.bandwidthDownBytesPerSec, 4 * 1024 * 1024) },
      });
      // One process owns the store (its start-up sweep moves leftovers to the graveyard).
      cache = lock === null ? null : await CacheStore.open(state.cacheDir, { volume: state.account.id, ...(settings.cacheLimitBytes > 0 ? { limitBytes: settings.cacheLimitBytes } : {}) });
      const downloads = cache === null ? null : new CachedDownloads({ engine, store: cache, root: state.account.local });
      const session = new SyncSession(state, journal, log, { lock, backend: inner, engine, caps, downloads, down, up, cache }, now);
      if (lock !== null) {
        const purged = await session.trash.purge(now().getTime());
        if (purged.length > 0) log.info({ purged: purged.length }, 'trash entries older than 30 days removed');
      }
      return session;
    } catch (e) {
      await cache?.close().catch(() => undefined);
      await backend?.close().catch(() => undefined);
      journal?.close();
      lock?.release();
      throw e;
    }
  }

  get root(): string {
    return this.state.account.local;
  }

  #engineParts(what: string): EngineParts {
    if (this.#parts === null) throw new NetfsError('INVALID_ARGUMENT', `${what} needs the engine: open the session with { engine: true }`);
    return this.#parts;
  }

  get engine(): NetfsEngine {
    return this.#engineParts('the engine').engine;
  }

  get backend(): RemoteBackend {
    return this.#engineParts('the backend').backend;
  }

  /** The content store, when this session owns it (the engine lock). */
  get cache(): CacheStore | null {
    return this.#parts?.cache ?? null;
  }

  get capabilities(): Capabilities {
    return this.#engineParts('capabilities').caps;
  }

  /** One sync pass. */
  async pass(options: { confirmed: boolean; dryRun: boolean; signal?: AbortSignal; draining?: AbortSignal }): Promise<PassReport> {
    const parts = this.#engineParts('a sync pass');
    if (parts.lock === null || parts.downloads === null) throw new NetfsError('INVALID_ARGUMENT', 'a sync pass needs the engine lock');
    const downloads = parts.downloads;
    const ignore = await IgnoreRules.load(this.root);
    const settings = this.journal.settings();
    if (settings.cacheLimitBytes > 0 && parts.cache !== null) await parts.cache.setLimit(settings.cacheLimitBytes);
    parts.down.setRate(settings.bandwidthDownBytesPerSec);
    parts.up.setRate(settings.bandwidthUpBytesPerSec);
    const root = this.root;
    const port = journalPort(this.journal, () => this.now().getTime());
    const report = await runPass({
      root,
      accountId: this.state.account.id,
      backend: parts.backend,
      engine: parts.engine,
      caps: parts.caps,
      journal: port,
      trash: { trash: (_file, path) => this.trash.put(root, path, this.now().getTime()) },
      downloads,
      beforePlan: async ({ base, remote }) => {
        const store = parts.cache;
        if (store === null) return [];
        const r = await dehydrate({
          root,
          engine: parts.engine,
          store,
          base,
          remote,
          placementOf: this.journal.placements(),
          record: (entries) => port.recordOnlineOnly(entries),
          log: (level, message, fields) => this.log[level](fields ?? {}, message),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        return r.freed;
      },
      isIgnored: (path, kind) => ignore.isIgnored(path, kind),
      transfers: settings.transfers,
      confirmed: options.confirmed,
      dryRun: options.dryRun,
      now: this.now,
      log: (level, message, fields) => this.log[level](fields ?? {}, message),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.draining === undefined ? {} : { draining: options.draining }),
    });
    if (!options.dryRun) {
      await this.saveStats();
      const r = report.result;
      await saveLastPass(this.state.dir, {
        finishedMs: this.now().getTime(),
        done: r?.done ?? 0,
        skipped: r?.skipped ?? 0,
        failed: r?.failed.length ?? 0,
        conflicts: r?.conflicts.length ?? 0,
        bytesDown: r?.bytesDown ?? 0,
        bytesUp: r?.bytesUp ?? 0,
        held: report.held?.message ?? null,
      });
    }
    return report;
  }

  /** Writes the engine's counters and the cache's state for other processes (`stats`, `cache ls`). */
  async saveStats(): Promise<void> {
    const parts = this.#parts;
    if (parts === null) return;
    const cache = parts.cache === null ? null : await parts.cache.inspect().catch(() => null);
    await saveStats(this.state.dir, { writtenMs: Date.now(), pid: process.pid, netfs: parts.engine.stats(), netfsText: parts.engine.formatStats(), cache }).catch((e: unknown) =>
      this.log.warn({ err: e }, 'could not write stats.json'),
    );
  }

  async close(): Promise<void> {
    await this.saveStats();
    const parts = this.#parts;
    this.#parts = null;
    if (parts !== null) {
      await parts.cache?.close().catch(() => undefined);
      await parts.backend.close().catch(() => undefined);
      parts.lock?.release();
    }
    this.journal.close();
  }
}

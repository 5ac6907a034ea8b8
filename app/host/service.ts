/**
 * The app service: every command of the contract (app/api COMMANDS) and every event stream,
 * over one state folder. Both hosts use it: the headless host (server.ts) over a WebSocket, and
 * the Electron main process over IPC, each through `dispatch(service.handlers, command, args)`.
 *
 *   AppService.open(state)
 *     account.json there?  yes -> EngineRun.start: SyncSession (engine lock) + SyncLoop (watching)
 *                          no  -> "unconfigured": the state folder (0700) and its engine lock are
 *                                 taken, account.get -> null, sync.status -> unconfigured
 *     account.add   (unconfigured) probe, write the state folder as `init` does, start the engine
 *     account.remove               stop the engine, forget the account (sync folder files stay)
 *
 *   handlers = account + sync + files + journal (conflicts, failures, trash, settings)
 *              + cache (and transfers) + diagnostics          (handlers-*.ts)
 *   subscribe(streams, listener) -> EventHub: snapshots numbered per stream, <= 10/s each
 *
 * The password goes from account.add into the state folder's secret file and nowhere else: no
 * result, event, log line or bundle carries it.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EventName, EventUpdate } from '../api/contract.js';
import type { Handlers } from '../api/derive.js';
import { NetfsError } from '../api/errors.js';
import { CAPABILITIES_FILE } from '../sync/capabilities-cache.js';
import { LAST_PASS_FILE } from '../sync/last-pass.js';
import { EngineLock } from '../sync/lock.js';
import { saveCapabilities } from '../sync/capabilities-cache.js';
import { ACCOUNT_FILE, CACHE_DIR, JOURNAL_FILE, ROOT_MARKER, SECRET_FILE, TRASH_DIR, initStateFolder, openStateFolder } from '../sync/state-folder.js';
import { STATS_FILE } from '../sync/stats-file.js';
import { EngineRun, type RunOptions } from './engine-run.js';
import { EventHub, type SubscribeOptions } from './event-hub.js';
import { accountHandlers, testAccount } from './handlers-account.js';
import { cacheHandlers } from './handlers-cache.js';
import { diagnosticsHandlers } from './handlers-diagnostics.js';
import { filesHandlers } from './handlers-files.js';
import { journalHandlers } from './handlers-journal.js';
import { syncHandlers } from './handlers-sync.js';
import type { AccountSpec, AccountView, ServiceContext } from './service-context.js';
import { UNCONFIGURED } from './status.js';

export interface AppServiceOptions {
  now?: () => Date;
  /** How often the sync loop polls the server, ms (default 30 s). */
  pollMs?: number;
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null)) !== null;
}

/** What account.remove deletes from the state folder (logs stay, for support). */
const ACCOUNT_STATE = [ACCOUNT_FILE, SECRET_FILE, JOURNAL_FILE, `${JOURNAL_FILE}-wal`, `${JOURNAL_FILE}-shm`, CACHE_DIR, TRASH_DIR, STATS_FILE, LAST_PASS_FILE, CAPABILITIES_FILE];

export class AppService implements ServiceContext {
  readonly stateDir: string;
  readonly now: () => Date;
  readonly hub: EventHub;
  readonly handlers: Handlers;
  readonly #runOptions: RunOptions;
  #run: EngineRun | null = null;
  /** The engine lock while there is no account (the engine's session holds it otherwise). */
  #lock: EngineLock | null = null;
  #closed = false;
  /** Account changes one at a time. */
  #lifecycle: Promise<unknown> = Promise.resolve();

  private constructor(stateDir: string, options: AppServiceOptions) {
    this.stateDir = stateDir;
    this.now = options.now ?? (() => new Date());
    this.#runOptions = { ...(options.now === undefined ? {} : { now: options.now }), ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }) };
    this.hub = new EventHub((stream, message) => this.#run?.session.log.warn({ stream, message }, 'an event did not match the contract and was dropped'));
    this.handlers = {
      ...accountHandlers(this),
      ...syncHandlers(this),
      ...filesHandlers(this),
      ...journalHandlers(this),
      ...cacheHandlers(this),
      ...diagnosticsHandlers(this),
    };
  }

  /** Opens the service on `stateDir`, initialised or not; fails with CONFLICT "already running (pid N)". */
  static async open(stateDir: string, options: AppServiceOptions = {}): Promise<AppService> {
    const service = new AppService(resolve(stateDir), options);
    if (await exists(join(service.stateDir, ACCOUNT_FILE))) {
      service.#run = await EngineRun.start(service.stateDir, service.hub, service.#runOptions);
    } else {
      await service.#becomeUnconfigured();
    }
    return service;
  }

  async #becomeUnconfigured(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const info = await stat(this.stateDir);
    if (!info.isDirectory()) throw new NetfsError('INVALID_ARGUMENT', `the state folder ${this.stateDir} is not a folder`);
    this.#lock = EngineLock.acquire(this.stateDir);
    this.hub.publish('sync.status', UNCONFIGURED);
    this.hub.publish('transfers', { transfers: [], rateDown: 0, rateUp: 0 });
    this.hub.publish('retries', { failures: [], requestRetries: [] });
    this.hub.publish('cache.occupancy', { summary: null });
    this.hub.publish('log', { lines: [] });
  }

  current(): EngineRun | null {
    return this.#run;
  }

  async account(): Promise<AccountView | null> {
    if (this.#run !== null) return this.#run.account;
    const state = await openStateFolder(this.stateDir).catch(() => null);
    return state === null ? null : { remote: state.account.remote, user: state.account.user, local: state.account.local };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#lifecycle.then(fn, fn);
    this.#lifecycle = p.catch(() => undefined);
    return p;
  }

  configure(spec: AccountSpec): Promise<AccountView> {
    return this.#serial(async () => {
      if (this.#closed) throw new NetfsError('CANCELLED', 'the app service is closing');
      if (this.#run !== null || (await exists(join(this.stateDir, ACCOUNT_FILE)))) {
        throw new NetfsError('CONFLICT', 'this state folder already has an account (one per state folder): remove it first');
      }
      const capabilities = await testAccount(spec);
      await initStateFolder(this.stateDir, { remote: spec.remote, local: spec.local, user: spec.user, password: spec.password, ca: null });
      await saveCapabilities(this.stateDir, spec.remote, capabilities);
      // The engine's session takes the lock itself.
      this.#lock?.release();
      this.#lock = null;
      this.#run = await EngineRun.start(this.stateDir, this.hub, this.#runOptions);
      return this.#run.account;
    });
  }

  unconfigure(): Promise<void> {
    return this.#serial(async () => {
      const run = this.#run;
      const account = await this.account();
      if (account === null) throw new NetfsError('NOT_FOUND', 'this state folder has no account');
      this.#run = null;
      await run?.stop();
      // account.json first: a folder without it is not initialised, whatever else is left.
      for (const name of ACCOUNT_STATE) await rm(join(this.stateDir, name), { recursive: true, force: true });
      await rm(join(account.local, ROOT_MARKER), { force: true });
      await this.#becomeUnconfigured();
    });
  }

  subscribe(streams: readonly EventName[], listener: (u: EventUpdate) => void, options: SubscribeOptions = {}): () => void {
    return this.hub.subscribe(streams, listener, options);
  }

  /** Stops the engine (the running pass cancelled, at most 30 s) and releases the lock. */
  async close(graceMs = 30_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#lifecycle;
    this.hub.close();
    const run = this.#run;
    this.#run = null;
    await run?.stop(graceMs);
    this.#lock?.release();
    this.#lock = null;
  }
}

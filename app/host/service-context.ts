/**
 * What the command handlers (handlers-*.ts) need from the app service: the running engine (or
 * the word that there is no account yet), the event hub, and the account lifecycle.
 *
 *   AppService ──implements──> ServiceContext <──uses── accountHandlers, syncHandlers, filesHandlers …
 */
import { NetfsError } from '../api/errors.js';
import type { EngineRun } from './engine-run.js';
import type { EventHub } from './event-hub.js';

export interface AccountSpec {
  remote: string;
  user: string | null;
  password: string | null;
  local: string;
}

export interface AccountView {
  remote: string;
  user: string | null;
  local: string;
}

export interface ServiceContext {
  readonly stateDir: string;
  readonly now: () => Date;
  readonly hub: EventHub;
  /** The running engine, or null while the state folder has no account. */
  current(): EngineRun | null;
  /** Creates the account (as `netfs-sync init` does) and starts the engine. */
  configure(spec: AccountSpec): Promise<AccountView>;
  /** Stops the engine and forgets the account (the sync folder's files stay). */
  unconfigure(): Promise<void>;
  /** The account, also when its engine could not start. */
  account(): Promise<AccountView | null>;
}

/** The running engine, or NOT_FOUND naming what needed it. */
export function needRun(ctx: ServiceContext, what: string): EngineRun {
  const run = ctx.current();
  if (run === null) throw new NetfsError('NOT_FOUND', `${what}: this state folder has no account yet (add one first)`);
  return run;
}

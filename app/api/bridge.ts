/**
 * The Electron preload bridge as the renderer sees it: `window.netfs`, present only inside the
 * Electron app (main/preload.ts builds it). The renderer declares `window.netfs?: NetfsBridge`
 * and picks it when present, else the WebSocket to the headless host (DESIGN §7).
 *
 *   renderer                      preload (sandboxed)             main process (main/ipc.ts)
 *   netfs.call(cmd, args) ------> isCommandName? --invoke--> netfs:call  sender = app top frame?
 *        <---- Result (checked by deriveClient) ------------------------  dispatch(handlers, …)
 *   netfs.subscribe(streams, fn) --send--> netfs:subscribe ---------->  service.subscribe(…)
 *        fn(update) <-- checkEvent <--------- netfs:event <----------  each EventUpdate
 *
 * Generic over the contract's names (mapped from contract.ts), so no second copy exists.
 */
import type { CommandName, CommandRequest, CommandResult, EventName, EventUpdate, Result } from './contract.js';

/** IPC channel names, shared by the preload and the main process. */
export const BRIDGE_CHANNELS = {
  /** renderer -> main, invoke: `(command, args)` -> `Result`. */
  call: 'netfs:call',
  /** renderer -> main, send: `(streams)`; replaces the window's current subscription. */
  subscribe: 'netfs:subscribe',
  /** main -> renderer: one `EventUpdate`. */
  event: 'netfs:event',
} as const;

/** One update of any of the streams `K`, discriminated by `stream`. */
export type UpdateOf<K extends EventName> = K extends EventName ? EventUpdate<K> : never;

/** What `window.netfs` holds. */
export interface NetfsBridge {
  /** Runs one command of the contract; never throws for a refused command (it answers `{ok: false}`). */
  call<K extends CommandName>(command: K, args: CommandRequest<K>): Promise<Result<CommandResult<K>>>;
  /** Listens to event streams (each update checked against its schema); returns the unsubscribe. */
  subscribe<K extends EventName>(streams: readonly K[], listener: (update: UpdateOf<K>) => void): () => void;
  /** The contract version the bridge was built with (CONTRACT_VERSION). */
  readonly version: number;
}

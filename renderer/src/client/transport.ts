/**
 * What the UI needs from a host, whichever carries it (DESIGN §7):
 *
 *   Electron window ── window.netfs (preload bridge) ──┐
 *                                                     ├──> Transport ──> deriveClient(call) = Client
 *   browser tab ── ws://host/api/ws (token) ──────────┘                 EventHub (latest snapshot per stream)
 *
 * `call` resolves with the raw answer (a Result, checked by deriveClient) or rejects when the
 * host cannot be reached; `subscribe` delivers raw event updates (checked by the EventHub);
 * `onStatus` says whether the host is reachable, so the UI can say "reconnecting".
 */
import type { CommandName, EventName } from '../../../app/api/contract.js';

export type ConnectionStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'open'; epoch: number }
  | { state: 'closed'; reason: string; retryAtMs: number; attempt: number }
  /** The host refused us (a wrong or missing token, a contract it does not speak): retrying will not help. */
  | { state: 'refused'; reason: string };

export interface Transport {
  call(command: CommandName, args: unknown): Promise<unknown>;
  /** Raw updates of the named streams; a new epoch (reconnect) starts each stream's numbering afresh. */
  subscribe(streams: readonly EventName[], listener: (update: unknown, epoch: number) => void): () => void;
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
  status(): ConnectionStatus;
  close(): void;
}

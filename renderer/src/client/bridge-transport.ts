/**
 * The Electron transport: the preload bridge `window.netfs` (NetfsBridge, app/api/bridge.ts:
 * contextIsolation, one function per operation) wrapped as a Transport. IPC inside one app does
 * not drop, so the status is "open" (epoch 1), or "refused" when the bridge speaks another
 * contract version.
 *
 *   window.netfs.call(command, args) ──IPC──> main ──> Result
 *   window.netfs.subscribe(streams, fn) <──IPC── main (snapshots with seq)
 */
import type { NetfsBridge } from '../../../app/api/bridge.js';
import { CONTRACT_VERSION, type CommandName, type EventName } from '../../../app/api/contract.js';
import type { ConnectionStatus, Transport } from './transport.js';

export function isBridge(value: unknown): value is NetfsBridge {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { call?: unknown; subscribe?: unknown };
  return typeof v.call === 'function' && typeof v.subscribe === 'function';
}

export class BridgeTransport implements Transport {
  private readonly current: ConnectionStatus;
  private readonly unsubscribes = new Set<() => void>();

  constructor(private readonly bridge: NetfsBridge) {
    this.current =
      bridge.version === CONTRACT_VERSION
        ? { state: 'open', epoch: 1 }
        : { state: 'refused', reason: `the app speaks contract version ${String(bridge.version)}, this page ${CONTRACT_VERSION}: reinstall the app` };
  }

  call(command: CommandName, args: unknown): Promise<unknown> {
    return this.bridge.call(command, (args ?? {}) as never);
  }

  subscribe(streams: readonly EventName[], listener: (update: unknown, epoch: number) => void): () => void {
    const off = this.bridge.subscribe(streams, (update) => listener(update, 1));
    this.unsubscribes.add(off);
    return () => {
      this.unsubscribes.delete(off);
      off();
    };
  }

  onStatus(): () => void {
    return () => undefined;
  }

  status(): ConnectionStatus {
    return this.current;
  }

  close(): void {
    for (const off of this.unsubscribes) off();
    this.unsubscribes.clear();
  }
}

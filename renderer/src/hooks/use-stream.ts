/**
 * The latest snapshot of an event stream, re-rendering on each new one; and the transport's
 * connection status.
 */
import { useCallback, useSyncExternalStore } from 'react';
import type { EventName, EventUpdate } from '../../../app/api/contract.js';
import type { ConnectionStatus } from '../client/transport.js';
import { useConnection } from './connection-context.js';

export function useStream<K extends EventName>(stream: K): EventUpdate<K> | null {
  const { events } = useConnection();
  const subscribe = useCallback((fn: () => void) => events.on(stream, fn), [events, stream]);
  const get = useCallback(() => events.latest(stream), [events, stream]);
  return useSyncExternalStore(subscribe, get);
}

export function useConnectionStatus(): ConnectionStatus {
  const { transport } = useConnection();
  const subscribe = useCallback((fn: () => void) => transport.onStatus(fn), [transport]);
  const get = useCallback(() => transport.status(), [transport]);
  return useSyncExternalStore(subscribe, get);
}

/** The LiveHistory's version, so a view re-renders when it changes. */
export function useHistoryVersion(): number {
  const { history } = useConnection();
  const subscribe = useCallback((fn: () => void) => history.subscribe(fn), [history]);
  const get = useCallback(() => history.version, [history]);
  return useSyncExternalStore(subscribe, get);
}

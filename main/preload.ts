/**
 * The preload (sandboxed, context-isolated): exposes `window.netfs` (NetfsBridge, app/api/
 * bridge.ts) and nothing else — no ipcRenderer, no Node. Bundled with the contract into one
 * CommonJS file, dist/main/preload.cjs (preload.vite.config.ts): a sandboxed preload cannot
 * load other files.
 *
 *   call(command, args)  isCommandName? --no--> {ok:false, INVALID_ARGUMENT}, nothing sent
 *                          |yes
 *                        deriveClient: invoke netfs:call -> answer checked against the schema
 *   subscribe(streams, fn)  known streams? --> local listener set --> union of streams sent on
 *                                              netfs:subscribe when it changes
 *   netfs:event  --checkEvent--> malformed: dropped; else to the listeners of that stream
 *                                (and kept as the stream's latest, replayed to new listeners)
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRenderer } from 'electron';
import { BRIDGE_CHANNELS, type NetfsBridge } from '../app/api/bridge.js';
import { CONTRACT_VERSION, type EventName, type EventUpdate } from '../app/api/contract.js';
import { checkEvent, deriveClient, isCommandName, isEventName } from '../app/api/derive.js';

type Ipc = Pick<IpcRenderer, 'invoke' | 'send' | 'on' | 'removeListener'>;

interface Listener {
  streams: ReadonlySet<EventName>;
  fn: (update: EventUpdate) => void;
}

/** Builds the bridge over `ipc` (ipcRenderer in the app; a test double in the tests). */
export function buildBridge(ipc: Ipc): NetfsBridge {
  const client = deriveClient((command, args) => ipc.invoke(BRIDGE_CHANNELS.call, command, args));
  const listeners = new Set<Listener>();
  const latest = new Map<EventName, EventUpdate>();
  let sent = '';

  const deliver = (update: EventUpdate): void => {
    for (const l of listeners) {
      if (!l.streams.has(update.stream)) continue;
      try {
        l.fn(update);
      } catch {
        // A listener's failure is the renderer's; it must not stop the others.
      }
    }
  };

  const onEvent = (_event: unknown, raw: unknown): void => {
    const update = checkEvent(raw);
    if (update === null) return;
    latest.set(update.stream, update);
    deliver(update);
  };

  const resubscribe = (): void => {
    const union = [...new Set([...listeners].flatMap((l) => [...l.streams]))].sort();
    const key = union.join(',');
    if (key === sent) return;
    if (sent === '') ipc.on(BRIDGE_CHANNELS.event, onEvent);
    sent = key;
    for (const name of [...latest.keys()]) if (!union.includes(name)) latest.delete(name);
    ipc.send(BRIDGE_CHANNELS.subscribe, union);
    if (union.length === 0) ipc.removeListener(BRIDGE_CHANNELS.event, onEvent);
  };

  const bridge: NetfsBridge = {
    call(command, args) {
      if (!isCommandName(command)) {
        const shown = typeof command === 'string' ? JSON.stringify((command as string).slice(0, 64)) : typeof command;
        return Promise.resolve({ ok: false, error: { code: 'INVALID_ARGUMENT', message: `unknown command ${shown}` } });
      }
      return client[command](args as never) as never;
    },
    subscribe(streams, listener) {
      if (!Array.isArray(streams) || !streams.every(isEventName) || typeof listener !== 'function') {
        throw new TypeError('subscribe(streams, listener): streams must be event names of the contract');
      }
      const entry: Listener = { streams: new Set(streams), fn: listener as (u: EventUpdate) => void };
      listeners.add(entry);
      resubscribe();
      for (const name of entry.streams) {
        const last = latest.get(name);
        if (last !== undefined) entry.fn(last);
      }
      let done = false;
      return () => {
        if (done) return;
        done = true;
        listeners.delete(entry);
        resubscribe();
      };
    },
    version: CONTRACT_VERSION,
  };
  return Object.freeze(bridge);
}

/** The one thing the preload exposes to the page (run when the preload loads). */
export function exposeBridge(): void {
  contextBridge.exposeInMainWorld('netfs', buildBridge(ipcRenderer));
}

exposeBridge();

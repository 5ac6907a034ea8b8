/**
 * The ipcMain side of the contract, derived from it (no per-command code): one invoke channel
 * for every command, one channel to subscribe to event streams, one to send events back.
 *
 *   netfs:call (invoke)  sender check --no--> {ok:false, FORBIDDEN}   (nothing else runs, S4)
 *                              |yes
 *                        dispatch(service.handlers, command, args)     (derive.ts: unknown
 *                              |                                       command, bad args and
 *                        after-hooks ('files.open' -> shell.openPath)  bad results refused)
 *   netfs:subscribe      sender check --no--> ignored
 *     (send)                   |yes
 *                        service.subscribe(streams) --each update--> webContents.send(netfs:event)
 *
 * The sender check: the message comes from the app window's own web contents, from its top
 * frame, whose URL is on app://netfs (style-examples §5.2.4).
 */
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent, WebContents } from 'electron';
import { BRIDGE_CHANNELS } from '../app/api/bridge.js';
import { EVENT_NAMES, type CommandName, type EventName, type EventUpdate, type Result } from '../app/api/contract.js';
import { dispatch, isEventName, type Handlers } from '../app/api/derive.js';
import { isAppUrl } from './navigation.js';

/** What the IPC adapter needs of the engine (app/host/service.ts AppService has it). */
export interface EngineService {
  readonly handlers: Handlers;
  subscribe(streams: EventName[], listener: (update: EventUpdate) => void): () => void;
}

/** The window whose top frame may talk to the engine. */
export interface TrustedWindow {
  readonly webContents: Pick<WebContents, 'send' | 'isDestroyed' | 'mainFrame'>;
  isDestroyed(): boolean;
}

/** Runs after a successful command, before its answer goes back; may turn it into a failure. */
export type AfterCall = (command: CommandName, result: Result<unknown>) => Promise<Result<unknown>>;

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'on' | 'removeHandler' | 'removeListener'>;
  service: EngineService;
  /** The app window, or null while there is none (then every message is refused). */
  window: () => TrustedWindow | null;
  after?: AfterCall;
}

type SenderEvent = Pick<IpcMainInvokeEvent | IpcMainEvent, 'sender' | 'senderFrame'>;

/** Why a message is refused, or null when it comes from the app window's top frame on app://netfs. */
export function senderRefusal(event: SenderEvent, window: TrustedWindow | null): string | null {
  if (window === null || window.isDestroyed()) return 'no app window';
  if (event.sender !== window.webContents) return 'not the app window';
  const frame = event.senderFrame;
  if (frame === null || frame === undefined) return 'the sending frame is gone';
  // Frames are compared by token: the wrapper objects are not guaranteed to be the same.
  if (frame.parent !== null || frame.frameToken !== window.webContents.mainFrame.frameToken) return 'not the top frame';
  if (!isAppUrl(frame.url)) return 'not the app origin';
  return null;
}

function refused(reason: string): Result<never> {
  return { ok: false, error: { code: 'FORBIDDEN', message: `IPC refused: ${reason}` } };
}

/** Parses a subscribe message: a short list of known stream names, no repeats. */
export function parseStreams(raw: unknown): EventName[] | null {
  if (!Array.isArray(raw) || raw.length > EVENT_NAMES.length) return null;
  if (!raw.every(isEventName)) return null;
  return [...new Set(raw)];
}

/** Installs the handlers; returns their removal (also drops the event subscription). */
export function installIpc(options: IpcOptions): () => void {
  const { ipcMain, service } = options;
  let unsubscribe: (() => void) | null = null;

  const stopEvents = (): void => {
    unsubscribe?.();
    unsubscribe = null;
  };

  ipcMain.handle(BRIDGE_CHANNELS.call, async (event, command: unknown, args: unknown) => {
    const refusal = senderRefusal(event, options.window());
    if (refusal !== null) return refused(refusal);
    const result = await dispatch(service.handlers, command, args);
    if (!result.ok || options.after === undefined) return result;
    try {
      return await options.after(command as CommandName, result);
    } catch (e) {
      return { ok: false, error: { code: 'IO', message: `${String(command)}: ${e instanceof Error ? e.message : String(e)}` } };
    }
  });

  const onSubscribe = (event: IpcMainEvent, raw: unknown): void => {
    const window = options.window();
    if (senderRefusal(event, window) !== null || window === null) return;
    const streams = parseStreams(raw);
    if (streams === null) return;
    stopEvents();
    if (streams.length === 0) return;
    const contents = window.webContents;
    unsubscribe = service.subscribe(streams, (update) => {
      if (!contents.isDestroyed()) contents.send(BRIDGE_CHANNELS.event, update);
    });
  };
  ipcMain.on(BRIDGE_CHANNELS.subscribe, onSubscribe);

  return () => {
    stopEvents();
    ipcMain.removeHandler(BRIDGE_CHANNELS.call);
    ipcMain.removeListener(BRIDGE_CHANNELS.subscribe, onSubscribe);
  };
}

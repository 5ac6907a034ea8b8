/**
 * One WebSocket client of the headless host, after the upgrade was let through (server.ts:
 * Host, path, Origin, and the token when it came as a subprotocol).
 *
 *   not yet authenticated: the first message must be {type:'auth', token} within 5 s,
 *                          else close 4401 (no other message is looked at)
 *   authenticated:         -> {type:'hello', version}
 *     {type:'call', id, command, args} -> dispatch() -> {type:'result', id, result}
 *     {type:'subscribe', streams}      -> replaces the subscription; each stream's snapshot
 *                                         now, then <= 10 updates a second (coalesced while
 *                                         the socket's send buffer is full)
 *     anything else (not JSON, not a known shape, an unknown stream) -> {type:'error'}, nothing done
 *   a message over 1 MiB: `ws` closes the socket (1009)
 */
import type { RawData, WebSocket } from 'ws';
import { CONTRACT_VERSION, type EventName, type EventUpdate } from '../api/contract.js';
import { clientMessageSchema, dispatch, isEventName, type Handlers, type HostMessage } from '../api/derive.js';
import type { SubscribeOptions } from './event-hub.js';
import { tokenMatches } from './token.js';

export const AUTH_TIMEOUT_MS = 5000;
export const CLOSE_UNAUTHORISED = 4401;
/** Above this much unsent data, event updates wait (and coalesce). */
const SEND_BUFFER_LIMIT = 1024 * 1024;

export interface HostedService {
  readonly handlers: Handlers;
  subscribe(streams: readonly EventName[], listener: (u: EventUpdate) => void, options?: SubscribeOptions): () => void;
}

function send(ws: WebSocket, msg: HostMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
}

function reject(ws: WebSocket, message: string): void {
  send(ws, { type: 'error', error: { code: 'INVALID_ARGUMENT', message } });
}

export function serveConnection(ws: WebSocket, o: { service: HostedService; token: string; authenticated: boolean }): void {
  let authed = o.authenticated;
  let unsubscribe: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  const welcome = (): void => send(ws, { type: 'hello', version: CONTRACT_VERSION });
  if (authed) welcome();
  else timer = setTimeout(() => ws.close(CLOSE_UNAUTHORISED, 'no token within 5 s'), AUTH_TIMEOUT_MS);

  // A protocol error (a message over 1 MiB, a bad frame): `ws` closes the socket itself (1009,
  // 1002); without this listener the error would bring the whole host down.
  ws.on('error', () => undefined);
  ws.on('close', () => {
    if (timer !== null) clearTimeout(timer);
    unsubscribe?.();
    unsubscribe = null;
  });

  ws.on('message', (data: RawData, isBinary: boolean) => {
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'));
    } catch {
      if (!authed) ws.close(CLOSE_UNAUTHORISED, 'authenticate first');
      else reject(ws, 'not a JSON text message');
      return;
    }
    if (!authed) {
      const m = msg as { type?: unknown; token?: unknown } | null;
      if (m !== null && typeof m === 'object' && m.type === 'auth' && tokenMatches(m.token, o.token)) {
        authed = true;
        if (timer !== null) clearTimeout(timer);
        timer = null;
        welcome();
      } else {
        ws.close(CLOSE_UNAUTHORISED, 'wrong or missing token');
      }
      return;
    }
    const parsed = clientMessageSchema.safeParse(msg);
    if (!parsed.success) {
      reject(ws, `not a message of the contract: ${parsed.error.issues[0]?.path.join('.') || '(message)'}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    const m = parsed.data;
    if (m.type === 'call') {
      void dispatch(o.service.handlers, m.command, m.args).then((result) => send(ws, { type: 'result', id: m.id, result }));
      return;
    }
    const unknown = m.streams.filter((s) => !isEventName(s));
    if (unknown.length > 0) {
      reject(ws, `unknown event stream(s): ${unknown.map((s) => JSON.stringify(s)).join(', ')}`);
      return;
    }
    unsubscribe?.();
    unsubscribe = o.service.subscribe(m.streams as EventName[], (u) => send(ws, { type: 'event', ...u }), { ready: () => ws.bufferedAmount < SEND_BUFFER_LIMIT });
  });
}

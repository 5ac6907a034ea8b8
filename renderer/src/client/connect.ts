/**
 * Picks the transport at start-up and builds what the views use, the same for both hosts:
 *
 *   window.netfs present? ── yes ──> BridgeTransport (Electron)
 *                          └─ no ──> token from the fragment/tab ──> WsTransport(ws://<host>/api/ws)
 *   Transport ──> deriveClient(call) : Client        (every command, answers checked)
 *             ──> subscribe(all streams) ──> EventHub (latest snapshot per stream)
 *                                        └─> LiveHistory (throughput, speeds, finished)
 */
import { EVENT_NAMES } from '../../../app/api/contract.js';
import { deriveClient, type Client } from '../../../app/api/derive.js';
import { BridgeTransport, isBridge } from './bridge-transport.js';
import { EventHub } from './event-hub.js';
import { LiveHistory } from './live-history.js';
import { browserTokenPlace, takeToken } from './token.js';
import type { Transport } from './transport.js';
import { WsTransport, type SocketFactory, type SocketLike } from './ws-transport.js';

export interface AppConnection {
  client: Client;
  events: EventHub;
  history: LiveHistory;
  transport: Transport;
  kind: 'electron' | 'browser';
}

/** Wires a transport to the client, the event hub and the history. */
export function connectWith(transport: Transport, kind: AppConnection['kind'], now: () => number = Date.now): AppConnection {
  const events = new EventHub();
  const history = new LiveHistory();
  transport.subscribe(EVENT_NAMES, (raw, epoch) => {
    if (!events.accept(raw, epoch)) return;
    const t = events.latest('transfers');
    if (t !== null && (raw as { stream?: unknown }).stream === 'transfers') history.ingest(t.data, now());
  });
  const client = deriveClient((command, args) => transport.call(command, args));
  return { client, events, history, transport, kind };
}

/** The browser's WebSocket seen through the few members the transport uses. */
function browserSocket(ws: WebSocket): SocketLike {
  const s: SocketLike = {
    get readyState() {
      return ws.readyState;
    },
    send: (d) => ws.send(d),
    close: (code, reason) => ws.close(code, reason),
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.onmessage = (ev) => s.onmessage?.({ data: ev.data });
  ws.onclose = (ev) => s.onclose?.({ code: ev.code, reason: ev.reason });
  ws.onerror = (ev) => s.onerror?.(ev);
  return s;
}

export type StartResult = { ok: true; connection: AppConnection } | { ok: false; reason: string };

/** The transport this page has: the preload bridge, or the headless host's WebSocket. */
export function connectFromPage(): StartResult {
  const bridge = (window as { netfs?: unknown }).netfs;
  if (isBridge(bridge)) return { ok: true, connection: connectWith(new BridgeTransport(bridge), 'electron') };
  const token = takeToken(browserTokenPlace());
  if (token === null) {
    return {
      ok: false,
      reason: 'This page needs the address with its token. Open the "UI: http://127.0.0.1:…/#token=…" line that netfs-sync serve printed.',
    };
  }
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${window.location.host}/api/ws`;
  const factory: SocketFactory = (u, protocols) => browserSocket(new WebSocket(u, protocols));
  // The host answers with 'netfs.v1' when offered, so the token is not echoed back.
  return { ok: true, connection: connectWith(new WsTransport({ url, token, factory }), 'browser') };
}

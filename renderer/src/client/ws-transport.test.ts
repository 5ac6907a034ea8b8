// The WebSocket transport against a real socket server (`ws` on 127.0.0.1): the token travels
// as a subprotocol, calls round-trip, events carry the connection's epoch, a dropped
// connection fails its pending calls and reconnects, calls made meanwhile wait for it, and a
// refusal (close 4401) stops the retries. (Issue 7 item 2, issue 8: reconnect and catch-up.)
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CONTRACT_VERSION } from '../../../app/api/contract.js';
import type { ConnectionStatus } from './transport.js';
import { WsTransport, type SocketLike } from './ws-transport.js';

function adapt(ws: WebSocket): SocketLike {
  const s: SocketLike = {
    get readyState() {
      return ws.readyState;
    },
    send: (d) => ws.send(d),
    close: (c, r) => ws.close(c, r),
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.on('message', (data) => s.onmessage?.({ data: data.toString('utf8') }));
  ws.on('close', (code, reason) => s.onclose?.({ code, reason: reason.toString('utf8') }));
  ws.on('error', (e) => s.onerror?.(e));
  return s;
}

interface Server {
  wss: WebSocketServer;
  url: string;
  protocols: string[][];
  sockets: WebSocket[];
  messages: unknown[];
}

async function server(onConnect: (ws: WebSocket, s: Server) => void, port = 0): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, handleProtocols: (p) => (p.has('netfs.v1') ? 'netfs.v1' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const address = wss.address();
  const s: Server = { wss, url: `ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/api/ws`, protocols: [], sockets: [], messages: [] };
  wss.on('connection', (ws, req) => {
    s.protocols.push((req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()));
    s.sockets.push(ws);
    ws.on('message', (d) => s.messages.push(JSON.parse(d.toString('utf8'))));
    onConnect(ws, s);
  });
  return s;
}

/** A host that says hello and answers every call with {ok:true, value:{done:true}}. */
function echoHost(ws: WebSocket): void {
  ws.send(JSON.stringify({ type: 'hello', version: CONTRACT_VERSION }));
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString('utf8')) as { type: string; id?: number };
    if (m.type === 'call') ws.send(JSON.stringify({ type: 'result', id: m.id, result: { ok: true, value: { done: true } } }));
  });
}

function waitFor(t: WsTransport, pred: (s: ConnectionStatus) => boolean, ms = 5000): Promise<ConnectionStatus> {
  return new Promise((resolve, reject) => {
    if (pred(t.status())) return resolve(t.status());
    const timer = setTimeout(() => reject(new Error(`status stayed ${JSON.stringify(t.status())}`)), ms);
    const off = t.onStatus((s) => {
      if (pred(s)) {
        clearTimeout(timer);
        off();
        resolve(s);
      }
    });
  });
}

const open: Array<{ close(): void }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) o.close();
});

function transport(url: string, token = 'A'.repeat(43)): WsTransport {
  const t = new WsTransport({ url, token, factory: (u, p) => adapt(new WebSocket(u, p)), backoffMs: () => 50, connectWaitMs: 3000 });
  open.push(t);
  return t;
}

describe('WsTransport (issue 7 item 2; issue 8 reconnect and catch-up)', () => {
  it('offers the token as a subprotocol beside netfs.v1 and round-trips a call after hello', async () => {
    const s = await server(echoHost);
    open.push({ close: () => s.wss.close() });
    const t = transport(s.url, 'tok_-123456789012345678');
    await expect(t.call('sync.pause', {})).resolves.toEqual({ ok: true, value: { done: true } });
    expect(s.protocols[0]).toEqual(['netfs.v1', 'netfs.token.tok_-123456789012345678']);
    expect(s.messages).toContainEqual({ type: 'call', id: 1, command: 'sync.pause', args: {} });
  });

  it('subscribes once open and hands events over with the connection epoch', async () => {
    const s = await server((ws) => {
      echoHost(ws);
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString('utf8')) as { type: string };
        if (m.type === 'subscribe') ws.send(JSON.stringify({ type: 'event', stream: 'log', seq: 7, data: { lines: [] } }));
      });
    });
    open.push({ close: () => s.wss.close() });
    const t = transport(s.url);
    const got = await new Promise<[unknown, number]>((resolve) => t.subscribe(['log'], (u, epoch) => resolve([u, epoch])));
    expect(got).toEqual([{ type: 'event', stream: 'log', seq: 7, data: { lines: [] } }, 1]);
    expect(s.messages).toContainEqual({ type: 'subscribe', streams: ['log'] });
  });

  it('a dropped connection fails the pending call, reconnects in a new epoch and re-subscribes', async () => {
    let n = 0;
    const s = await server((ws) => {
      n++;
      ws.send(JSON.stringify({ type: 'hello', version: CONTRACT_VERSION }));
      if (n === 1) ws.on('message', (d) => (JSON.parse(d.toString('utf8')) as { type: string }).type === 'call' && ws.terminate());
      else echoHost(ws);
    });
    open.push({ close: () => s.wss.close() });
    const t = transport(s.url);
    t.subscribe(['sync.status'], () => undefined);
    await waitFor(t, (x) => x.state === 'open');
    await expect(t.call('sync.now', {})).rejects.toThrow(/closed/);
    const reopened = await waitFor(t, (x) => x.state === 'open' && x.epoch === 2);
    expect(reopened).toEqual({ state: 'open', epoch: 2 });
    await expect(t.call('sync.now', {})).resolves.toEqual({ ok: true, value: { done: true } });
    expect(s.messages.filter((m) => (m as { type: string }).type === 'subscribe')).toHaveLength(2);
  });

  it('a call made while the host is down waits for the reconnect, then goes', async () => {
    const first = await server(echoHost);
    const port = Number(new URL(first.url).port);
    const t = transport(first.url);
    await waitFor(t, (x) => x.state === 'open');
    for (const ws of first.sockets) ws.terminate();
    await new Promise<void>((r) => first.wss.close(() => r()));
    await waitFor(t, (x) => x.state !== 'open');
    const pending = t.call('sync.resume', {});
    const second = await server(echoHost, port);
    open.push({ close: () => second.wss.close() });
    await expect(pending).resolves.toEqual({ ok: true, value: { done: true } });
  });

  it('a refusal (close 4401) is final: status refused, calls fail at once, no reconnect', async () => {
    const s = await server((ws) => ws.close(4401, 'wrong or missing token'));
    open.push({ close: () => s.wss.close() });
    const t = transport(s.url);
    expect(await waitFor(t, (x) => x.state === 'refused')).toEqual({ state: 'refused', reason: 'wrong or missing token' });
    await expect(t.call('sync.now', {})).rejects.toThrow(/wrong or missing token/);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.protocols).toHaveLength(1);
  });

  it('a host of another contract version is refused with a reason to reload', async () => {
    const s = await server((ws) => ws.send(JSON.stringify({ type: 'hello', version: CONTRACT_VERSION + 1 })));
    open.push({ close: () => s.wss.close() });
    const t = transport(s.url);
    const st = await waitFor(t, (x) => x.state === 'refused');
    expect(st.state === 'refused' && st.reason).toMatch(/contract version .* reload/);
  });
});

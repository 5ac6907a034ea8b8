/**
 * Test kit for the headless host: a real AppService behind a real host on loopback, a real
 * WebSocket client (`ws`), and raw HTTP/1.1 over a TCP socket for the requests a normal client
 * would not send (a foreign Host, no Host, a hand-made upgrade).
 *
 *   startTestHost({ stateDir })  -> { service, host, connect(), stop() }
 *   WsClient.connect(url, { protocols, origin })  -> hello / call / send raw / events / closed
 *   rawHttp({ port, path, hostHeader, headers, body })  -> { status, headers, body }
 */
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import WebSocket from 'ws';
import type { CommandName, EventUpdate } from '../api/contract.js';
import { deriveClient, type Client } from '../api/derive.js';
import { startHost, type HostServer } from './server.js';
import { AppService, type AppServiceOptions } from './service.js';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One HTTP/1.1 request written by hand (Connection: close); `hostHeader` null sends none. */
export function rawHttp(o: {
  port: number;
  address?: string;
  method?: string;
  path: string;
  hostHeader?: string | null;
  headers?: Record<string, string>;
  body?: string;
}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: o.address ?? '127.0.0.1', port: o.port });
    const chunks: Buffer[] = [];
    socket.on('connect', () => {
      const host = o.hostHeader === undefined ? `127.0.0.1:${o.port}` : o.hostHeader;
      const lines = [`${o.method ?? 'GET'} ${o.path} HTTP/1.1`];
      if (host !== null) lines.push(`Host: ${host}`);
      for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`);
      const body = o.body === undefined ? undefined : Buffer.from(o.body, 'utf8');
      if (body !== undefined) lines.push(`Content-Length: ${body.length}`);
      lines.push('Connection: close', '', '');
      socket.write(lines.join('\r\n'));
      if (body !== undefined) socket.write(body);
    });
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${o.method ?? 'GET'} ${o.path} within 10 s`)));
    socket.on('close', () => resolve(parseAnswer(Buffer.concat(chunks).toString('utf8'))));
  });
}

function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = end < 0 ? '' : text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body };
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    if (nl < 0) return out;
    const size = Number.parseInt(rest.slice(0, nl), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

/** A WebSocket upgrade written by hand: the status line (101 when let through) and headers. */
export function rawUpgrade(o: { port: number; address?: string; path?: string; hostHeader?: string | null; origin?: string; protocol?: string }): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
  };
  if (o.origin !== undefined) headers['Origin'] = o.origin;
  if (o.protocol !== undefined) headers['Sec-WebSocket-Protocol'] = o.protocol;
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: o.address ?? '127.0.0.1', port: o.port });
    let text = '';
    socket.on('connect', () => {
      const host = o.hostHeader === undefined ? `127.0.0.1:${o.port}` : o.hostHeader;
      const lines = [`GET ${o.path ?? '/api/ws'} HTTP/1.1`];
      if (host !== null) lines.push(`Host: ${host}`);
      lines.push('Connection: Upgrade');
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      if (text.startsWith('HTTP/1.1 101') && text.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer to the upgrade within 10 s')));
    socket.on('close', () => resolve(parseAnswer(text)));
  });
}

type Message = { type: string; [k: string]: unknown };

/** A real WebSocket client of the host. */
export class WsClient {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  readonly events: (EventUpdate & { atMs: number })[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  #nextId = 1;
  #waiters = new Set<{ pred: (m: Message) => boolean; resolve: (m: Message) => void }>();

  constructor(url: string, o: { protocols?: string[]; origin?: string } = {}) {
    this.ws = new WebSocket(url, o.protocols ?? [], { ...(o.origin === undefined ? {} : { origin: o.origin }), maxPayload: 64 * 1024 * 1024 });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data) => {
      let m: Message;
      try {
        m = JSON.parse(data.toString()) as Message;
      } catch {
        return;
      }
      this.messages.push(m);
      if (m.type === 'event') this.events.push({ ...(m as unknown as EventUpdate), atMs: performance.now() });
      for (const w of this.#waiters) {
        if (w.pred(m)) {
          this.#waiters.delete(w);
          w.resolve(m);
        }
      }
    });
  }

  /** The first message matching `pred` (already received, or the next one). */
  next(pred: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const seen = this.messages.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: Message) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`no matching message within ${timeoutMs} ms (got ${this.messages.length}: ${JSON.stringify(this.messages.slice(-3)).slice(0, 400)})`));
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  send(raw: string | Buffer | object): void {
    this.ws.send(typeof raw === 'string' || Buffer.isBuffer(raw) ? raw : JSON.stringify(raw));
  }

  /** One call; resolves with the raw `result` of the answer. */
  async call(command: string, args: unknown, timeoutMs = 60_000): Promise<unknown> {
    const id = this.#nextId++;
    const answer = this.next((m) => m.type === 'result' && m['id'] === id, timeoutMs);
    this.send({ type: 'call', id, command, args });
    return (await answer)['result'];
  }

  /** A typed client of every command, answers checked against the contract (deriveClient). */
  client(): Client {
    return deriveClient((command: CommandName, args) => this.call(command, args ?? {}));
  }

  close(): void {
    this.ws.close();
  }
}

export interface TestHost {
  service: AppService;
  host: HostServer;
  wsUrl: string;
  /** A client authenticated by the token subprotocol, after its hello. */
  connect(): Promise<WsClient>;
  stop(): Promise<void>;
}

export async function startTestHost(o: { stateDir: string; staticDir?: string } & AppServiceOptions): Promise<TestHost> {
  const service = await AppService.open(o.stateDir, { ...(o.now === undefined ? {} : { now: o.now }), ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }) });
  const host = await startHost({ service, ...(o.staticDir === undefined ? {} : { staticDir: o.staticDir }) });
  const wsUrl = `ws://127.0.0.1:${host.port}/api/ws`;
  const clients: WsClient[] = [];
  return {
    service,
    host,
    wsUrl,
    connect: async () => {
      const c = new WsClient(wsUrl, { protocols: [`netfs.token.${host.token}`] });
      clients.push(c);
      await c.next((m) => m.type === 'hello');
      return c;
    },
    stop: async () => {
      for (const c of clients) c.close();
      await host.close();
      await service.close();
    },
  };
}

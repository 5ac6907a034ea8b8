/**
 * A proxy in front of a real server whose requests and answers each wait at a gate (P3: the
 * fast-check scheduler decides the order in which pending requests reach the server and
 * pending answers reach the client).
 *
 *   client ──request──> [gate "PUT /dav/x →"] ──forward──> server (Apache)
 *   client <──answer─── [gate "PUT /dav/x ← 201"] <──whole answer buffered──
 *
 * Bodies are buffered whole (small test files only; the fault proxy streams big ones). With no
 * gate set it is a plain pass-through. `upstreamInFlight` and `lastEventAt` let a scheduler
 * wait until the client has sent what it is going to send before it picks the next one.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Resolves when the request or answer named by `label` may go on. */
export type ProxyGate = (label: string) => Promise<void>;

export interface ScheduledRequest {
  readonly method: string;
  readonly path: string;
  status: number | null;
}

export interface ScheduledProxy {
  readonly origin: string;
  readonly port: number;
  /** The same URL with this proxy's origin. */
  url(serverUrl: string): string;
  /** Every request and answer waits on `gate` (null: pass-through). */
  setGate(gate: ProxyGate | null): void;
  /** Requests released to the server whose answer has not come back whole yet. */
  readonly upstreamInFlight: number;
  /** Requests and answers waiting at the gate. */
  readonly held: number;
  /** Date.now() of the last arrival, answer or release. */
  readonly lastEventAt: number;
  readonly requests: readonly ScheduledRequest[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

function copyHeaders(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function startScheduledProxy(options: { target: string }): Promise<ScheduledProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  let gate: ProxyGate | null = null;
  let upstreamInFlight = 0;
  let held = 0;
  let lastEventAt = Date.now();
  let origin = '';
  const requests: ScheduledRequest[] = [];

  const wait = async (label: string): Promise<void> => {
    const g = gate;
    if (g === null) return;
    held++;
    try {
      await g(label);
    } finally {
      held--;
      lastEventAt = Date.now();
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const record: ScheduledRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: null };
      requests.push(record);
      lastEventAt = Date.now();
      const body = await readAll(req);
      const label = `${record.method} ${decodeURIComponent(record.path)}`;
      await wait(`${label} →`);
      const headers = copyHeaders(req.headers);
      headers['host'] = target.host;
      headers['content-length'] = String(body.length);
      const dest = req.headers['destination'];
      if (typeof dest === 'string' && dest.startsWith(origin)) headers['destination'] = `${target.origin}${dest.slice(origin.length)}`;
      upstreamInFlight++;
      let answer: { status: number; headers: OutgoingHttpHeaders; body: Buffer };
      try {
        answer = await new Promise((resolve, reject) => {
          const up = request({ host: target.hostname, port: target.port, method: record.method, path: record.path, headers, agent }, (r) => {
            readAll(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: copyHeaders(r.headers), body: b }), reject);
          });
          up.on('error', reject);
          up.end(body);
        });
      } finally {
        upstreamInFlight--;
        lastEventAt = Date.now();
      }
      await wait(`${label} ← ${answer.status}`);
      const location = answer.headers['location'];
      if (typeof location === 'string' && location.startsWith(target.origin)) answer.headers['location'] = `${origin}${location.slice(target.origin.length)}`;
      if (record.method !== 'HEAD' && answer.headers['content-length'] === undefined) answer.headers['content-length'] = String(answer.body.length);
      record.status = answer.status;
      res.writeHead(answer.status, answer.headers);
      res.end(record.method === 'HEAD' ? undefined : answer.body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    url: (serverUrl) => {
      const u = new URL(serverUrl);
      return `${origin}${u.pathname}${u.search}`;
    },
    setGate: (g) => {
      gate = g;
    },
    get upstreamInFlight() {
      return upstreamInFlight;
    },
    get held() {
      return held;
    },
    get lastEventAt() {
      return lastEventAt;
    },
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

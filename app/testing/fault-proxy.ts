// The fault proxy: a real HTTP/1.1 reverse proxy on 127.0.0.1 in front of a real WebDAV server,
// injecting network and server faults by rule (resets, hangs, truncation, made-up statuses,
// throttling, weak ETags, ignored Range or preconditions) for the F and L scenarios.
//
//   client ──keep-alive──> fault proxy ──keep-alive──> Apache mod_dav / rclone serve
//                           │ rules: first that fires applies (fault-proxy-rules.ts)
//                           │ bodies streamed with backpressure, counted, optionally throttled
//                           └ requests: every request seen, with its status, bytes and rule
//
//   const proxy = await startFaultProxy({ target: apache.origin });
//   proxy.addRule({ match: { method: 'GET', path: /\.bin$/, nth: 3 }, action: { kind: 'truncate', afterBodyBytes: 3 << 20 } });
//   … client talks to proxy.url(apache.url) …
//   proxy.requests; proxy.stats(); await proxy.close();
import { Agent, createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runExchange } from './fault-proxy-exchange.js';
import type { ProxyContext } from './fault-proxy-forward.js';
import { rewriteOrigin } from './fault-proxy-headers.js';
import { RequestLog } from './fault-proxy-log.js';
import { RuleBook } from './fault-proxy-rules.js';
import { Throttle } from './fault-proxy-throttle.js';
import type { FaultProxyStats, FaultRule, FaultRuleHandle, ProxiedRequest } from './fault-proxy-types.js';

export interface FaultProxyOptions {
  /** The server: its origin or any URL on it (apache.origin, apache.url). http only. */
  target: string;
  /** Port on 127.0.0.1; default a free one. Give the old port to restart a proxy in its place. */
  port?: number;
  /** Proxy-wide cap in bytes/s on all bodies, each direction shared by every request (L6). */
  throttleBytesPerSecond?: number;
  /** Largest 207 body buffered to rewrite for weak-etags; bigger ones pass unchanged. Default 16 MiB. */
  maxRewriteBytes?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly port: number;
  /** The server's origin. */
  readonly target: string;
  /** Every request seen, in order of arrival; entries update while their request runs. */
  readonly requests: readonly ProxiedRequest[];
  /**
   * The proxy's URL for a server URL or path: `url(apache.url + 'a.txt')`, `url('/dav/a.txt')`,
   * `url('a.txt')` (relative to the target's path), `url()` (the target's path).
   */
  url(pathOrUrl?: string): string;
  /** Appends a rule; rules are checked in the order added. */
  addRule(rule: FaultRule): FaultRuleHandle;
  removeRule(rule: FaultRuleHandle | number): void;
  clearRules(): void;
  /** Sets (or with null lifts) the proxy-wide body rate cap, both directions by default. */
  setThrottle(bytesPerSecond: number | null, direction?: 'both' | 'upload' | 'download'): void;
  /** Resolves with the first request (seen or to come) that matches; rejects after timeoutMs (default 5 s). */
  waitFor(predicate: (request: ProxiedRequest) => boolean, timeoutMs?: number): Promise<ProxiedRequest>;
  stats(): FaultProxyStats;
  /** Forgets the requests seen so far (indexes keep counting). */
  clearRequests(): void;
  /** Client connections open now (hung ones included). */
  openConnections(): number;
  /** Connections to the server opened so far (few: they are kept alive and reused). */
  readonly upstreamConnections: number;
  /** Stop listening, cut every client connection, drop the server connections. Idempotent. */
  close(): Promise<void>;
}

const LISTEN_ATTEMPTS = 20;
const LISTEN_RETRY_MS = 100;

/** The ways a client may spell a 127.0.0.1 origin. */
function spellings(origin: URL): string[] {
  const port = origin.port === '' ? '' : `:${origin.port}`;
  const loopback = ['127.0.0.1', 'localhost'].includes(origin.hostname);
  return loopback ? [`http://127.0.0.1${port}`, `http://localhost${port}`] : [origin.origin];
}

async function listen(server: ReturnType<typeof createServer>, port: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('fault proxy: no TCP address');
      return address.port;
    } catch (err) {
      // A restart on the same port may race the old socket's release: retry a little.
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || port === 0 || attempt >= LISTEN_ATTEMPTS) throw err;
      await sleep(LISTEN_RETRY_MS);
    }
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetUrl = new URL(options.target);
  if (targetUrl.protocol !== 'http:') throw new Error(`fault proxy: only http targets, got ${options.target}`);
  const targetPort = targetUrl.port === '' ? 80 : Number(targetUrl.port);
  const targetPath = targetUrl.pathname;
  const log = new RequestLog();
  const rules = new RuleBook();
  const sockets = new Set<Socket>();
  const connectionIds = new WeakMap<Socket, number>();
  let connections = 0;
  const upstreamSockets = new WeakSet<Socket>();
  let upstreamConnections = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16 });
  const uploadThrottle = new Throttle(options.throttleBytesPerSecond ?? null);
  const downloadThrottle = new Throttle(options.throttleBytesPerSecond ?? null);
  // Filled in once listening (the port may be chosen by the kernel).
  let ctx: ProxyContext | null = null;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (ctx === null) {
      res.writeHead(503).end();
      return;
    }
    runExchange(ctx, rules, connectionIds.get(req.socket) ?? -1, req, res).catch(() => {
      // runExchange records its own failures; whatever escapes ends the connection.
      req.socket.destroy();
    });
  };

  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, noDelay: true, maxHeaderSize: 64 * 1024 });
  server.keepAliveTimeout = 5_000;
  server.on('request', handle);
  // Without this listener node answers `Expect: 100-continue` by itself; the proxy decides (a
  // made-up status or a cut must not invite the body first).
  server.on('checkContinue', handle);
  server.on('connection', (socket: Socket) => {
    connectionIds.set(socket, connections++);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const port = await listen(server, options.port ?? 0);
  const origin = `http://127.0.0.1:${port}`;
  const proxyOrigins = spellings(new URL(origin));
  const targetOrigins = spellings(targetUrl);
  ctx = {
    targetHost: targetUrl.host,
    targetHostname: targetUrl.hostname,
    targetPort,
    targetOrigin: targetUrl.origin,
    targetOrigins,
    proxyOrigin: origin,
    proxyOrigins,
    agent,
    uploadThrottle,
    downloadThrottle,
    maxRewriteBytes: options.maxRewriteBytes ?? 16 * 1024 * 1024,
    log,
    noteUpstreamSocket(socket) {
      if (upstreamSockets.has(socket)) return;
      upstreamSockets.add(socket);
      upstreamConnections += 1;
    },
  };
  let closing: Promise<void> | null = null;

  return {
    origin,
    port,
    target: targetUrl.origin,
    requests: log.requests,
    url(pathOrUrl) {
      if (pathOrUrl === undefined) return `${origin}${targetPath}`;
      if (/^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl)) {
        const mapped = rewriteOrigin(pathOrUrl, [...targetOrigins, ...proxyOrigins], origin);
        if (mapped === pathOrUrl && !pathOrUrl.startsWith(origin)) {
          throw new Error(`fault proxy: ${pathOrUrl} is not on the target ${targetUrl.origin}`);
        }
        return mapped;
      }
      if (pathOrUrl.startsWith('/')) return `${origin}${pathOrUrl}`;
      return `${origin}${targetPath.endsWith('/') ? targetPath : `${targetPath}/`}${pathOrUrl}`;
    },
    addRule: (rule) => rules.add(rule),
    removeRule: (rule) => rules.remove(typeof rule === 'number' ? rule : rule.id),
    clearRules: () => rules.clear(),
    setThrottle(bytesPerSecond, direction = 'both') {
      if (direction !== 'download') uploadThrottle.setRate(bytesPerSecond);
      if (direction !== 'upload') downloadThrottle.setRate(bytesPerSecond);
    },
    waitFor: (predicate, timeoutMs) => log.waitFor(predicate, timeoutMs),
    stats: () => log.stats(),
    clearRequests: () => log.clear(),
    openConnections: () => sockets.size,
    get upstreamConnections() {
      return upstreamConnections;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        agent.destroy();
      });
      return closing;
    },
  };
}

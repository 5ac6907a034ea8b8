/**
 * The headless host (DESIGN §7, issue 7 item 4): the built renderer and the contract over a
 * WebSocket, on loopback only, for one launch's token.
 *
 *   listen 127.0.0.1:PORT (port 0: the system picks; busy: CONFLICT naming it)
 *          [::1]:PORT     (when the machine has it; failing is not fatal)
 *
 *   every request / upgrade
 *     Host not 127.0.0.1:PORT | [::1]:PORT | localhost:PORT -> 403, before anything else (S8)
 *     absolute-form request target                          -> 400
 *     /api/ws   upgrade: no query string (400), Origin foreign -> 403 (S9),
 *               token in Sec-WebSocket-Protocol `netfs.token.<T>` (wrong -> 401) or as the first
 *               message {type:'auth', token} within 5 s (ws-connection.ts) (S10)
 *     /api/call/<command>  api-call.ts: Bearer token + X-Netfs: 1 (S10, S11)
 *     /api/*    anything else: token, then 404
 *     else      static-files.ts (public), CSP + nosniff + frame-ancestors on every answer (S3)
 *
 *   The token goes out once, in the UI line's fragment (serve.ts); it is never read from a URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { NetfsError } from '../api/errors.js';
import { MAX_MESSAGE_BYTES, bearerOk, handleApiCall } from './api-call.js';
import { hostAllowed, originVerdict } from './host-check.js';
import { rawAnswer, sendText } from './security-headers.js';
import { defaultRendererDir, serveStatic } from './static-files.js';
import { newToken, tokenMatches } from './token.js';
import { serveConnection, type HostedService } from './ws-connection.js';

export const WS_PATH = '/api/ws';
export const TOKEN_PROTOCOL_PREFIX = 'netfs.token.';
/** The subprotocol the host picks when the client offers it besides the token. */
export const WS_PROTOCOL = 'netfs.v1';

export interface HostOptions {
  service: HostedService;
  /** 0 (default): the system picks. */
  port?: number;
  /** The built renderer (default: dist/renderer of this checkout). */
  staticDir?: string;
  /** Also listen on [::1] (default true). */
  ipv6?: boolean;
  /** Notes for the operator (the ::1 bind failing, a request handler failing); never the token. */
  log?: (message: string) => void;
}

export interface HostServer {
  readonly port: number;
  readonly token: string;
  /** The UI's address with the token in the fragment. */
  readonly url: string;
  /** Where it listens, e.g. ['127.0.0.1', '::1']. */
  readonly addresses: readonly string[];
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      server.removeListener('listening', onListening);
      reject(e);
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The token offered as a subprotocol, if any, and the protocol to answer with. */
function offeredToken(header: string | undefined): { token: string | null; offered: string[] } {
  const offered = (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const t = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return { token: t === undefined ? null : t.slice(TOKEN_PROTOCOL_PREFIX.length), offered };
}

export async function startHost(options: HostOptions): Promise<HostServer> {
  const token = newToken();
  const staticDir = options.staticDir ?? defaultRendererDir();
  const log = options.log ?? (() => undefined);
  let port = options.port ?? 0;
  const chosen = new WeakMap<IncomingMessage, string | false>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, handleProtocols: (_p, req) => chosen.get(req) ?? false });

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (!hostAllowed(req.headers.host, port)) return sendText(res, 403, 'this host name is not allowed');
    const target = req.url ?? '/';
    if (!target.startsWith('/')) return sendText(res, 400, 'bad request target');
    const pathname = target.split('?')[0] ?? '/';
    const run = async (): Promise<void> => {
      if (pathname.startsWith('/api/call/')) return handleApiCall(req, res, { port, token, handlers: options.service.handlers, command: safeDecode(pathname.slice('/api/call/'.length)) });
      if (pathname === '/api' || pathname.startsWith('/api/')) {
        if (!bearerOk(req, token)) return sendText(res, 401, 'a token is needed', { 'WWW-Authenticate': 'Bearer' });
        return sendText(res, pathname === WS_PATH ? 426 : 404, pathname === WS_PATH ? 'WebSocket only' : 'not found');
      }
      return serveStatic(staticDir, req, res, pathname);
    };
    run().catch((e: unknown) => {
      log(`request failed: ${e instanceof Error ? e.message : String(e)}`);
      sendText(res, 500, 'internal error');
    });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const refuse = (status: number, reason: string, text: string): void => {
      socket.end(rawAnswer(status, reason, text));
    };
    socket.on('error', () => undefined);
    if (!hostAllowed(req.headers.host, port)) return refuse(403, 'Forbidden', 'this host name is not allowed');
    const target = req.url ?? '';
    if (target.includes('?')) return refuse(400, 'Bad Request', 'no query string here: the token goes in Sec-WebSocket-Protocol or the first message');
    if (target !== WS_PATH) return refuse(404, 'Not Found', 'not found');
    const origin = req.headers.origin;
    if (originVerdict(typeof origin === 'string' ? origin : undefined, port) === 'foreign') return refuse(403, 'Forbidden', 'foreign origin');
    const { token: given, offered } = offeredToken(req.headers['sec-websocket-protocol']);
    let authenticated = false;
    if (given !== null) {
      if (!tokenMatches(given, token)) return refuse(401, 'Unauthorized', 'wrong token');
      authenticated = true;
      chosen.set(req, offered.includes(WS_PROTOCOL) ? WS_PROTOCOL : `${TOKEN_PROTOCOL_PREFIX}${given}`);
    } else {
      chosen.set(req, offered.includes(WS_PROTOCOL) ? WS_PROTOCOL : false);
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, { service: options.service, token, authenticated }));
  };

  const make = (): Server => {
    // A missing Host is ours to refuse (403 with our headers), not node's 400.
    const s = createServer({ maxHeaderSize: 16 * 1024, requireHostHeader: false }, onRequest);
    s.on('upgrade', onUpgrade);
    s.on('clientError', (_e, socket) => socket.destroy());
    return s;
  };

  const v4 = make();
  try {
    port = await listen(v4, port, '127.0.0.1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new NetfsError('CONFLICT', `port ${port} on 127.0.0.1 is already in use: pick another --port (or 0)`);
    if (code === 'EACCES') throw new NetfsError('FORBIDDEN', `port ${port} on 127.0.0.1 is not allowed for this user`);
    throw e;
  }
  const servers = [v4];
  const addresses = ['127.0.0.1'];
  if (options.ipv6 !== false) {
    const v6 = make();
    try {
      await listen(v6, port, '::1');
      servers.push(v6);
      addresses.push('::1');
    } catch (e) {
      log(`not listening on [::1]:${port}: ${(e as Error).message}`);
    }
  }
  let closing: Promise<void> | null = null;
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/#token=${token}`,
    addresses,
    close: () => {
      closing ??= (async () => {
        for (const c of wss.clients) c.terminate();
        await Promise.all(servers.map(closeServer));
        await new Promise<void>((r) => wss.close(() => r()));
      })();
      return closing;
    },
  };
}

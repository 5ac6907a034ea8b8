// A real HTTP/1.1 server on 127.0.0.1 built on node:net, for the bad-input scenarios (B1–B7,
// M1, M3–M5): the handler decides the exact bytes of every answer, and every request received
// is recorded so a test can check what the client sent.
//
//   const server = await startReplayServer(async (req, reply) => {
//     if (req.method === 'PROPFIND') await reply.send(multistatusResponse([...]));
//     else await reply.reset(responseBytes({ status: 200, body: 'x'.repeat(100) }), 40);
//   });
//   ... server.url, server.requests ...
//   await server.close();
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { ByteReader } from './byte-reader.js';
import { responseBytes } from './http-bytes.js';
import { readRequest } from './http-request-reader.js';
import type { ParsedRequest } from './http-request-reader.js';
import { createReply } from './replay-reply.js';
import type { Reply } from './replay-reply.js';

export interface RecordedRequest extends ParsedRequest {
  /** Order of arrival over the whole server, from 0. */
  index: number;
  /** Which connection it came on (from 0), to check keep-alive. */
  connection: number;
  /** Its position on that connection, from 0. */
  indexOnConnection: number;
}

export type ReplayHandler = (request: RecordedRequest, reply: Reply) => void | Promise<void>;

export interface ReplayServerOptions {
  /** The path `url` ends with. Default '/dav/'. */
  basePath?: string;
  /** Request heads larger than this get 431 and a closed connection. Default 64 KiB. */
  maxHeaderBytes?: number;
  /** Request bodies larger than this get 413 and a closed connection. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Answer `Expect: 100-continue` before reading the body. Default true. */
  expectContinue?: boolean;
}

export interface ReplayServer {
  /** origin + basePath, e.g. http://127.0.0.1:PORT/dav/ */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  /** Every complete request received, in order of arrival. */
  readonly requests: RecordedRequest[];
  /** Errors thrown by the handler (each also answered 500 if nothing was written yet). */
  readonly errors: Error[];
  /** Connections accepted so far. */
  readonly connectionCount: number;
  /** Connections open now. */
  openConnections(): number;
  /** Swap the handler (for the next requests). */
  setHandler(handler: ReplayHandler): void;
  /** Stop listening, destroy every connection, stop every drip. Idempotent. */
  close(): Promise<void>;
}

function wantsClose(request: ParsedRequest): boolean {
  const connection = (request.headers['connection'] ?? '').toLowerCase();
  if (connection.split(',').some((t) => t.trim() === 'close')) return true;
  return request.httpVersion === 'HTTP/1.0' && !connection.includes('keep-alive');
}

export async function startReplayServer(handler: ReplayHandler, options: ReplayServerOptions = {}): Promise<ReplayServer> {
  const limits = { maxHeaderBytes: options.maxHeaderBytes ?? 64 * 1024, maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024 };
  const expectContinue = options.expectContinue ?? true;
  const requests: RecordedRequest[] = [];
  const errors: Error[] = [];
  const sockets = new Set<Socket>();
  const lifetime = new AbortController();
  let current = handler;
  let connectionCount = 0;

  async function serve(socket: Socket, connection: number): Promise<void> {
    const reader = new ByteReader(socket);
    // Bounded by the peer: each turn consumes one request, and ends at EOF or on any close.
    for (let onConnection = 0; !socket.destroyed && !lifetime.signal.aborted; onConnection++) {
      const outcome = await readRequest(reader, limits, (head) => {
        if (expectContinue && /100-continue/i.test(head.headers['expect'] ?? '')) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      });
      if (outcome.kind === 'eof') {
        socket.end();
        return;
      }
      if (outcome.kind === 'bad') {
        socket.end(responseBytes({ status: outcome.status, headers: { Connection: 'close' }, body: `${outcome.reason}\n` }));
        return;
      }
      const request: RecordedRequest = { ...outcome.request, index: requests.length, connection, indexOnConnection: onConnection };
      requests.push(request);
      const { reply, state } = createReply(socket, lifetime.signal);
      try {
        await current(request, reply);
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
        if (state.bytesWritten === 0 && !state.silent) {
          await reply.send({ status: 500, body: `replay handler threw: ${String(err)}\n`, close: true });
        }
        socket.end();
        return;
      }
      if (state.silent || state.ended || socket.destroyed) return;
      if (state.bytesWritten === 0) {
        await reply.send({ status: 500, body: `replay handler sent no reply to ${request.method} ${request.path}\n`, close: true });
        return;
      }
      if (wantsClose(request)) {
        await reply.close();
        return;
      }
    }
  }

  const server = createServer({ noDelay: true }, (socket) => {
    const connection = connectionCount++;
    sockets.add(socket);
    socket.on('error', () => {
      // Resets and aborts by the client are part of the tests.
    });
    socket.on('close', () => sockets.delete(socket));
    serve(socket, connection).catch((err: unknown) => {
      errors.push(err instanceof Error ? err : new Error(String(err)));
      socket.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('replay server: no TCP address');
  const origin = `http://127.0.0.1:${address.port}`;
  const basePath = options.basePath ?? '/dav/';
  let closing: Promise<void> | null = null;

  return {
    url: `${origin}${basePath}`,
    origin,
    port: address.port,
    requests,
    errors,
    get connectionCount() {
      return connectionCount;
    },
    openConnections: () => sockets.size,
    setHandler(next) {
      current = next;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        lifetime.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

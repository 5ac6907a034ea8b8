/**
 * One HTTP exchange on undici's dispatcher, with the body handed chunk by chunk to a
 * consumer (no stream pipes, no whole-body buffering unless the consumer wants it).
 *
 *   exchange(request, consumer)
 *      |  dispatch on the keep-alive pool (connections per origin, connect/header/idle-body timeouts,
 *      |  header-size cap, custom CA)
 *      +--> consumer.onHeaders(status, headers)   may throw: the exchange is aborted with that error
 *      +--> consumer.onData(chunk)                 each chunk as it arrives; may throw likewise
 *      +--> consumer.onEnd()                       its value resolves the exchange
 *   an AbortSignal cancels (CANCELLED); a deadline ends it (TRANSIENT); transport errors are mapped
 *   by transport-errors.ts. The first error wins.
 */
import { Agent, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { NetfsError } from '../../api/errors.js';
import { mapTransportError } from './transport-errors.js';

export interface HttpClientOptions {
  /** Connections per origin (the keep-alive pool). */
  connections: number;
  connectTimeoutMs: number;
  /** Time to the response headers. */
  headersTimeoutMs: number;
  /** Longest silence inside a body before it is cut off. */
  bodyIdleTimeoutMs: number;
  /** Cap on the response headers, in bytes. */
  maxHeaderBytes: number;
  /** PEM CA certificate(s) to trust besides the system's, for a server with a private certificate. */
  ca?: string | Buffer;
}

export interface Consumer<T> {
  onHeaders(status: number, headers: IncomingHttpHeaders): void;
  onData(chunk: Buffer): void;
  onEnd(): T;
}

export interface ExchangeRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  signal?: AbortSignal | undefined;
  /** Overall deadline for the whole exchange, body included. */
  deadlineMs?: number;
  /** What to call the exchange in error messages, e.g. "PROPFIND /docs". */
  what: string;
}

/** The first value of a header, or null. */
export function header(headers: IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

export class HttpClient {
  readonly options: HttpClientOptions;
  private readonly agent: Agent;

  constructor(options: HttpClientOptions) {
    this.options = options;
    this.agent = new Agent({
      connections: options.connections,
      pipelining: 1,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyIdleTimeoutMs,
      maxHeaderSize: options.maxHeaderBytes,
      keepAliveTimeout: 4_000,
      connect: options.ca === undefined ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca: options.ca },
    });
  }

  exchange<T>(req: ExchangeRequest, consumer: Consumer<T>): Promise<{ status: number; headers: IncomingHttpHeaders; value: T }> {
    const timeouts = { headersMs: this.options.headersTimeoutMs, bodyIdleMs: this.options.bodyIdleTimeoutMs };
    return new Promise((resolve, reject) => {
      let controller: Dispatcher.DispatchController | null = null;
      let settled = false;
      let failure: NetfsError | null = null;
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      let timer: NodeJS.Timeout | undefined;

      const finish = (err: NetfsError | null, value?: T): void => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (err !== null) reject(err);
        else resolve({ status, headers, value: value as T });
      };
      // Abort the exchange; the promise settles now, even if the socket has not started yet.
      const fail = (err: NetfsError): void => {
        failure ??= err;
        if (controller !== null && !controller.aborted) controller.abort(failure);
        finish(failure);
      };
      const onAbort = (): void => fail(new NetfsError('CANCELLED', `${req.what}: cancelled`));

      if (req.signal?.aborted === true) {
        reject(new NetfsError('CANCELLED', `${req.what}: cancelled`));
        return;
      }
      req.signal?.addEventListener('abort', onAbort, { once: true });
      if (req.deadlineMs !== undefined) {
        timer = setTimeout(
          () => fail(new NetfsError('TRANSIENT', `${req.what}: not finished within ${Math.round(req.deadlineMs! / 1000)} s (deadline)`)),
          req.deadlineMs,
        );
      }

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          if (failure !== null) c.abort(failure);
        },
        onResponseStart(c, code, h) {
          status = code;
          headers = h;
          try {
            consumer.onHeaders(code, h);
          } catch (e) {
            fail(mapTransportError(e, req.what, timeouts));
          }
        },
        onResponseData(c, chunk) {
          if (failure !== null) return;
          try {
            consumer.onData(chunk);
          } catch (e) {
            fail(mapTransportError(e, req.what, timeouts));
          }
        },
        onResponseEnd() {
          if (failure !== null) return finish(failure);
          try {
            finish(null, consumer.onEnd());
          } catch (e) {
            finish(mapTransportError(e, req.what, timeouts));
          }
        },
        onResponseError(_c, err) {
          finish(failure ?? mapTransportError(err, req.what, timeouts));
        },
      };

      try {
        this.agent.dispatch(
          {
            origin: req.url.origin,
            path: req.url.pathname + req.url.search,
            method: req.method as Dispatcher.HttpMethod,
            headers: req.headers,
            // undici takes (async) iterables at run time; its types name only the other forms.
            body: (req.body ?? null) as Dispatcher.DispatchOptions['body'],
          },
          handler,
        );
      } catch (e) {
        finish(mapTransportError(e, req.what, timeouts));
      }
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** A consumer that keeps the body, refusing more than `max` bytes (TOO_LARGE). */
export function collectBody(max: number, what: string): Consumer<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  return {
    onHeaders() {},
    onData(chunk) {
      total += chunk.length;
      if (total > max) throw new NetfsError('TOO_LARGE', `${what}: the answer is larger than ${max} bytes`);
      chunks.push(chunk);
    },
    onEnd() {
      return Buffer.concat(chunks, total);
    },
  };
}

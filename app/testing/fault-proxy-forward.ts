// Forwarding one request through the fault proxy and shaping the real answer on its way back:
//
//   client req ──headers (edited)──> server         (keep-alive agent, one retry for a bodiless
//   client body ──pump (throttled)──> server         request whose reused socket was dead)
//   client <──head (edited)── server response
//   client <──pump (throttled, cut at N)── body     cut points: before/mid headers, mid body,
//                                                    truncate (FIN); 207 bodies buffered (capped)
//                                                    only to weaken getetag values; resize-body
//                                                    buffers a body (capped) to cut or pad it
import { request as httpRequest, STATUS_CODES } from 'node:http';
import type { Agent, ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingMessage as ClientIncoming } from 'node:http';
import type { Socket } from 'node:net';
import { badGatewayAnswer } from './fault-proxy-answers.js';
import type { MadeUpAnswer } from './fault-proxy-answers.js';
import { rewriteHrefOrigins, weakenGetetags } from './fault-proxy-etags.js';
import { announcedLength, flatHeaders, headerPairs, headersForClient, headersForTarget, serializeHead } from './fault-proxy-headers.js';
import type { HeaderPairs } from './fault-proxy-headers.js';
import type { RequestLog, RequestRecord } from './fault-proxy-log.js';
import { flushed, pump } from './fault-proxy-pump.js';
import { cutConnection } from './fault-proxy-socket.js';
import { Throttle } from './fault-proxy-throttle.js';
import type { FaultAction, ProxiedOutcome } from './fault-proxy-types.js';

export interface ProxyContext {
  /** host:port of the server, for the Host header. */
  readonly targetHost: string;
  readonly targetHostname: string;
  readonly targetPort: number;
  readonly targetOrigin: string;
  /** The server's origin as it may be spelled (127.0.0.1 / localhost). */
  readonly targetOrigins: readonly string[];
  readonly proxyOrigin: string;
  readonly proxyOrigins: readonly string[];
  readonly agent: Agent;
  /** Proxy-wide caps, shared by every request (inactive unless set). */
  readonly uploadThrottle: Throttle;
  readonly downloadThrottle: Throttle;
  /** Largest 207 body buffered for a weak-etags rewrite; bigger ones pass unchanged. */
  readonly maxRewriteBytes: number;
  readonly log: RequestLog;
  /** Called with the socket of every request to the server (to count connections). */
  noteUpstreamSocket(socket: Socket): void;
}

export interface Exchange {
  ctx: ProxyContext;
  req: IncomingMessage;
  res: ServerResponse;
  record: RequestRecord;
  action: FaultAction;
  /** Aborted when the client's response closes (normally or not). */
  signal: AbortSignal;
}

const PRECONDITIONS = ['if-match', 'if-none-match', 'if-unmodified-since'];
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** The methods node sends without a body when no length is given (others get chunked framing). */
const NO_BODY_BY_DEFAULT = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/** Send a made-up answer (status action, 502). */
export function sendAnswer(ex: Exchange, answer: MadeUpAnswer): void {
  ex.res.writeHead(answer.status, answer.message, flatHeaders(answer.headers));
  ex.ctx.log.update(ex.record, { status: answer.status });
  ex.res.end(answer.body);
  ex.res.once('finish', () => ex.ctx.log.finish(ex.record, 'complete'));
}

/** Cut the client connection now and record it. */
export function cutClient(ex: Exchange, how: 'reset' | 'close', outcome: ProxiedOutcome = how === 'reset' ? 'reset' : 'closed'): void {
  ex.ctx.log.finish(ex.record, outcome);
  cutConnection(ex.req.socket, how);
}

function originForm(target: string): string {
  if (!/^https?:\/\//i.test(target)) return target;
  const url = new URL(target);
  return `${url.pathname}${url.search}`;
}

function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function throttlesFor(ex: Exchange, direction: 'request' | 'response'): Throttle[] {
  const shared = direction === 'request' ? ex.ctx.uploadThrottle : ex.ctx.downloadThrottle;
  const { action } = ex;
  if (action.kind !== 'throttle') return [shared];
  const applies = (action.direction ?? 'both') === 'both' || action.direction === direction;
  return applies ? [shared, new Throttle(action.bytesPerSecond)] : [shared];
}

function responseOf(upstream: ClientRequest): Promise<ClientIncoming> {
  return new Promise((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
  });
}

/** Opens the request to the server and starts sending the body; resolves with the response head. */
async function sendUpstream(ex: Exchange): Promise<{ upstream: ClientRequest; response: ClientIncoming }> {
  const { ctx, req, action } = ex;
  const drop = new Set<string>();
  if (action.kind === 'ignore-range') ['range', 'if-range'].forEach((h) => drop.add(h));
  if (action.kind === 'drop-preconditions') PRECONDITIONS.forEach((h) => drop.add(h));
  const headers = headersForTarget(headerPairs(req.rawHeaders), {
    targetHost: ctx.targetHost,
    targetOrigin: ctx.targetOrigin,
    proxyOrigins: ctx.proxyOrigins,
    drop,
  });
  const bodiless = !hasRequestBody(req);
  // With its headers given as a list, node frames a body-less PUT/MKCOL/PROPFIND/… as an empty
  // chunked body, and mod_dav answers a MKCOL with a body 415: say "no body" explicitly.
  if (bodiless && !NO_BODY_BY_DEFAULT.has((req.method ?? 'GET').toUpperCase()) && req.headers['content-length'] === undefined) {
    headers.push(['Content-Length', '0']);
  }
  const open = (): ClientRequest => {
    const upstream = httpRequest({
      agent: ctx.agent,
      host: ctx.targetHostname,
      port: ctx.targetPort,
      method: req.method ?? 'GET',
      path: originForm(req.url ?? '/'),
      headers: flatHeaders(headers),
    });
    upstream.once('socket', (socket) => ctx.noteUpstreamSocket(socket));
    // Errors are read through responseOf and pump; a late second one must not go unhandled.
    upstream.on('error', () => undefined);
    return upstream;
  };

  let upstream = open();
  ctx.log.update(ex.record, { forwarded: true });
  if (bodiless) {
    req.resume();
    upstream.end();
  } else {
    if (/100-continue/i.test(req.headers['expect'] ?? '')) ex.res.writeContinue();
    const sending = upstream;
    pump(req, sending, {
      throttles: throttlesFor(ex, 'request'),
      onBytes: (n) => (ex.record.bytesIn += n),
      signal: ex.signal,
    }).then(
      () => sending.end(),
      (err: unknown) => sending.destroy(err instanceof Error ? err : new Error(String(err))),
    );
  }
  try {
    return { upstream, response: await responseOf(upstream) };
  } catch (err) {
    // A kept-alive socket the server had just closed: safe to try once more without a body.
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!bodiless || !upstream.reusedSocket || !RETRYABLE.has(code) || ex.signal.aborted) throw err;
    upstream = open();
    upstream.end();
    return { upstream, response: await responseOf(upstream) };
  }
}

/** Reads up to `cap` bytes; `rest` continues where it stopped when the body was bigger. */
async function readUpTo(
  source: AsyncIterable<unknown>,
  cap: number,
): Promise<{ chunks: Buffer[]; ended: boolean; rest: AsyncIterator<unknown> }> {
  const rest = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let total = 0;
  // Bounded by the cap: every turn adds a non-empty chunk.
  while (total <= cap) {
    const next = await rest.next();
    if (next.done === true) return { chunks, ended: true, rest };
    const chunk = Buffer.from(next.value as Uint8Array);
    chunks.push(chunk);
    total += chunk.length;
  }
  return { chunks, ended: false, rest };
}

async function* prepend(first: readonly Buffer[], rest: AsyncIterator<unknown>): AsyncGenerator<unknown> {
  yield* first;
  // Bounded by the source body.
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
}

function header(pairs: HeaderPairs, name: string): string | undefined {
  return pairs.find(([key]) => key.toLowerCase() === name)?.[1];
}

/** A 207 body buffered and rewritten, or null when it is too big or encoded (then it passes unchanged). */
async function rewrittenMultistatus(
  ex: Exchange,
  response: ClientIncoming,
  pairs: HeaderPairs,
): Promise<{ body: Buffer } | { source: AsyncIterable<unknown> }> {
  const encoded = (header(pairs, 'content-encoding') ?? 'identity').toLowerCase() !== 'identity';
  if (response.statusCode !== 207 || encoded) return { source: response };
  const read = await readUpTo(response, ex.ctx.maxRewriteBytes);
  if (!read.ended) return { source: prepend(read.chunks, read.rest) };
  const xml = Buffer.concat(read.chunks).toString('utf8');
  const rewritten = rewriteHrefOrigins(weakenGetetags(xml), ex.ctx.targetOrigins, ex.ctx.proxyOrigin);
  return { body: Buffer.from(rewritten, 'utf8') };
}

/** resize-body: the whole real body (up to the rewrite cap) cut or padded to `bytes`, or null when bigger than the cap. */
async function resizedBody(ex: Exchange, response: ClientIncoming, bytes: number, fill: number): Promise<{ body: Buffer } | { source: AsyncIterable<unknown> }> {
  const read = await readUpTo(response, ex.ctx.maxRewriteBytes);
  if (!read.ended) return { source: prepend(read.chunks, read.rest) };
  const real = Buffer.concat(read.chunks);
  const body = Buffer.alloc(Math.max(0, Math.floor(bytes)), fill);
  real.copy(body, 0, 0, Math.min(real.length, body.length));
  return { body };
}

/** A Content-Range that matches a resized body: the file ends where the body does. */
function resizedRange(pairs: HeaderPairs, bytes: number): HeaderPairs {
  return pairs.map(([name, value]) => {
    if (name.toLowerCase() !== 'content-range') return [name, value];
    const first = /^bytes\s+(\d+)-/i.exec(value.trim());
    if (first === null || bytes === 0) return [name, value];
    const start = Number(first[1]);
    return [name, `bytes ${start}-${start + bytes - 1}/${start + bytes}`];
  });
}

/** How many body bytes go out before a cut, or undefined for the whole body. */
function bodyLimit(action: FaultAction, length: number | null): number | undefined {
  let wanted: number | undefined;
  if (action.kind === 'truncate') wanted = action.afterBodyBytes;
  if ((action.kind === 'reset' || action.kind === 'close') && action.at === 'mid-body') wanted = action.afterBodyBytes ?? 0;
  if (wanted === undefined) return undefined;
  // A cut must show: never the whole of an announced body.
  return length === null ? Math.floor(wanted) : Math.max(0, Math.min(Math.floor(wanted), length - 1));
}

async function relayResponse(ex: Exchange, upstream: ClientRequest, response: ClientIncoming): Promise<void> {
  const { ctx, req, res, record, action } = ex;
  const status = response.statusCode ?? 502;
  const message = response.statusMessage ?? STATUS_CODES[status] ?? '';
  const pairs = headerPairs(response.rawHeaders);
  // Read through pump or readUpTo below; until then an abort must not go unhandled.
  response.on('error', () => undefined);
  const hasBody = req.method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
  const weak = action.kind === 'weak-etags';
  ctx.log.update(record, { upstreamStatus: status });
  const drop = (): void => {
    response.destroy();
    upstream.destroy();
  };

  if (action.kind === 'reset' || action.kind === 'close') {
    if (action.at === 'before-headers') {
      drop();
      cutClient(ex, action.kind);
      return;
    }
    if (action.at === 'mid-headers') {
      const head = serializeHead(status, message, headersForClient(pairs, { targetOrigins: ctx.targetOrigins, proxyOrigin: ctx.proxyOrigin, weakEtags: weak }));
      const sent = Math.max(0, Math.min(Math.floor(action.headBytes ?? head.length / 2), head.length - 1));
      drop();
      req.socket.write(head.subarray(0, sent));
      await flushed(req.socket);
      cutClient(ex, action.kind);
      return;
    }
  }

  const resize = action.kind === 'resize-body' && hasBody ? action : null;
  const shaped =
    weak && hasBody
      ? await rewrittenMultistatus(ex, response, pairs)
      : resize !== null
        ? await resizedBody(ex, response, resize.bytes, resize.fill ?? 0x2a)
        : { source: response };
  const length = !hasBody ? 0 : 'body' in shaped ? shaped.body.length : announcedLength(pairs);
  const clientPairs = headersForClient(resize !== null && 'body' in shaped ? resizedRange(pairs, shaped.body.length) : pairs, {
    targetOrigins: ctx.targetOrigins,
    proxyOrigin: ctx.proxyOrigin,
    weakEtags: weak,
    ...('body' in shaped ? { contentLength: shaped.body.length } : {}),
  });
  const limit = bodyLimit(action, length);
  res.writeHead(status, message, flatHeaders(clientPairs));
  ctx.log.update(record, { status });
  const source = 'body' in shaped ? [shaped.body] : shaped.source;
  const result = hasBody
    ? await pump(source, res, {
        ...(limit === undefined ? {} : { limit }),
        throttles: throttlesFor(ex, 'response'),
        onBytes: (n) => (record.bytesOut += n),
        signal: ex.signal,
      })
    : { bytes: 0, complete: true };

  if (limit !== undefined) {
    // The cut (mid-body reset/close, truncate): the bytes so far, then the connection goes.
    res.flushHeaders();
    await flushed(res);
    drop();
    cutClient(ex, action.kind === 'reset' ? 'reset' : 'close');
    return;
  }
  if (!result.complete) throw new Error('response body ended early');
  await new Promise<void>((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    res.end();
  });
  ctx.log.finish(record, res.writableFinished ? 'complete' : 'client-gone');
}

/** Forward to the server and relay (or cut) its answer. */
export async function forward(ex: Exchange): Promise<void> {
  let upstream: ClientRequest | null = null;
  try {
    const sent = await sendUpstream(ex);
    upstream = sent.upstream;
    await relayResponse(ex, sent.upstream, sent.response);
  } catch (err) {
    upstream?.destroy();
    if (ex.signal.aborted || ex.req.socket.destroyed) {
      ex.ctx.log.finish(ex.record, 'client-gone', err);
    } else if (!ex.res.headersSent) {
      ex.ctx.log.finish(ex.record, 'upstream-error', err);
      sendAnswer(ex, badGatewayAnswer(err instanceof Error ? err.message : String(err)));
    } else {
      ex.ctx.log.finish(ex.record, 'upstream-error', err);
      cutConnection(ex.req.socket, 'reset');
    }
  }
}

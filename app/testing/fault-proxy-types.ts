// The vocabulary of the fault proxy: which requests a rule matches (FaultMatch), what it does
// to them (FaultAction), and what the proxy records about every request it sees
// (ProxiedRequest). Types only; the behaviour lives in fault-proxy-rules.ts (matching) and
// fault-proxy-exchange.ts (actions).

/** Exact string, `{ prefix }`, or a RegExp tested against the raw request target. */
export type PathMatch = string | RegExp | { prefix: string };

export interface FaultMatch {
  /** One method or a list (compared upper-case). Default: any. */
  method?: string | readonly string[];
  /** On the raw request target (`/dav/a%20b.txt?x`), not decoded. Default: any. */
  path?: PathMatch;
  /** Only the n-th request (1-based) that matches everything else of this rule. */
  nth?: number;
  /**
   * One in N of the requests that match everything else. Without `seed`: the N-th, 2N-th, …
   * With `seed`: exactly one at a seeded pseudo-random position in each block of N, so the
   * same seed over the same request sequence hits the same requests.
   */
  every?: number;
  seed?: number;
  /** Same as FaultRule.times (give one or the other). */
  times?: number;
  /** Extra condition, checked after method and path. */
  when?: (request: ProxiedRequest) => boolean;
}

/**
 * Where a connection is cut:
 * - `before-headers`: nothing of the response is sent. By default the request is not
 *   forwarded (the server never sees it, the body is not read); `forward: true` sends it on,
 *   waits for the server's response head (the operation happened) and throws that away.
 * - `mid-headers`: forwarded; `headBytes` of the real response head (default: half), then cut.
 * - `mid-body`: forwarded; the real head and `afterBodyBytes` of the real body, then cut.
 *   The cut always shows: with a Content-Length of L, at most L − 1 bytes are sent, and a
 *   chunked body never gets its last chunk. (A response without a body — HEAD, 204, 304,
 *   Content-Length: 0 — goes out whole before the cut: the client may not notice.)
 */
export type CutPoint = 'before-headers' | 'mid-headers' | 'mid-body';

/** `reset` ends with an RST (`socket.resetAndDestroy()`), `close` with a clean FIN. */
export interface CutAction {
  kind: 'reset' | 'close';
  at: CutPoint;
  /** mid-body: body bytes sent before the cut. Default 0. */
  afterBodyBytes?: number;
  /** mid-headers: bytes of the response head sent before the cut. Default: half of it. */
  headBytes?: number;
  /** before-headers only: forward the request first. Default false. */
  forward?: boolean;
}

/** Wait `ms`, then forward as usual. */
export interface DelayAction {
  kind: 'delay';
  ms: number;
}

/** Accept, read the request, never answer; the connection stays open until the client gives up or the proxy closes. Not forwarded. */
export interface HangAction {
  kind: 'hang';
}

/** Forward; send the real status and headers (full Content-Length), then only the first `afterBodyBytes` of the body (at most L − 1), then FIN. */
export interface TruncateAction {
  kind: 'truncate';
  afterBodyBytes: number;
}

/** Answer without forwarding. */
export interface StatusAction {
  kind: 'status';
  status: number;
  headers?: Record<string, string>;
  /** Default: a short text naming the status (503: a WebDAV maintenance error body). */
  body?: string | Uint8Array;
  /** Adds `Retry-After`: seconds (number), an HTTP-date (Date), or the literal header value. */
  retryAfter?: number | Date | string;
  /** Add `Connection: close` and close after the answer (what servers do for 413). */
  close?: boolean;
}

/** Strip `Range` and `If-Range` before forwarding: the server answers 200 with the whole body. */
export interface IgnoreRangeAction {
  kind: 'ignore-range';
}

/** Forward at most `bytesPerSecond` of body, per request (the proxy-wide cap applies too). */
export interface ThrottleAction {
  kind: 'throttle';
  bytesPerSecond: number;
  /** Which bodies. Default 'both'. */
  direction?: 'both' | 'request' | 'response';
}

/** Rewrite every `ETag` response header and every `getetag` in 207 bodies to `W/"…"`. */
export interface WeakEtagsAction {
  kind: 'weak-etags';
}

/** Strip `If-Match`, `If-None-Match`, `If-Unmodified-Since` before forwarding. */
export interface DropPreconditionsAction {
  kind: 'drop-preconditions';
}

/**
 * Forward; send the real status and headers, but a body of exactly `bytes` bytes: the real one
 * cut short, or padded with `fill` (default 0x2a, '*'). Content-Length says `bytes`, and a
 * Content-Range is rewritten to match (`bytes S-(S+bytes-1)/(S+bytes)`: the server's file ends
 * there). A well-formed answer with the wrong bytes, for F18 (size differs from the listing).
 * Bodies up to the proxy's rewrite cap (16 MiB); bigger ones pass unchanged.
 */
export interface ResizeBodyAction {
  kind: 'resize-body';
  bytes: number;
  fill?: number;
}

/** Forward untouched: a rule with it shields matching requests from the rules after it. */
export interface PassAction {
  kind: 'pass';
}

export type FaultAction =
  | CutAction
  | DelayAction
  | HangAction
  | TruncateAction
  | StatusAction
  | IgnoreRangeAction
  | ThrottleAction
  | WeakEtagsAction
  | DropPreconditionsAction
  | ResizeBodyAction
  | PassAction;

export type FaultActionKind = FaultAction['kind'];

/** Picks the action when the rule fires; `fire` counts this rule's firings from 1. */
export type FaultActionFactory = (request: ProxiedRequest, fire: number) => FaultAction;

export interface FaultRule {
  /** For `ProxiedRequest.rule` and stats. Default `#<id> <kind>`. */
  name?: string;
  /** Default: every request. */
  match?: FaultMatch;
  action: FaultAction | FaultActionFactory;
  /** Fire at most this many times, then the rule is spent. Default: no limit. */
  times?: number;
}

export interface FaultRuleHandle {
  readonly id: number;
  readonly name: string;
  /** Requests that matched method, path and `when` (what `nth` and `every` count). */
  readonly matched: number;
  readonly fired: number;
  /** `times` reached, or `nth` passed. */
  readonly spent: boolean;
  remove(): void;
}

/**
 * - `pending`: still in progress
 * - `complete`: answered in full
 * - `reset` / `closed`: the proxy cut the connection with an RST / a FIN
 * - `hung`: a hang action holds it (until the client or the proxy closes)
 * - `client-gone`: the client went away first
 * - `upstream-error`: the server could not be reached or broke off (the client got 502 or a cut)
 */
export type ProxiedOutcome = 'pending' | 'complete' | 'reset' | 'closed' | 'hung' | 'client-gone' | 'upstream-error';

/** What the proxy records about one request; fields after `headers` change while it runs. */
export interface ProxiedRequest {
  /** Order of arrival, from 0. */
  readonly index: number;
  /** Date.now() when its head arrived (for "no request before Retry-After"). */
  readonly time: number;
  /** Which client connection (from 0), to check keep-alive. */
  readonly connection: number;
  readonly method: string;
  /** The request target exactly as sent. */
  readonly path: string;
  /** Lower-case names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  /** The status sent to the client; null while none was (or never: cut before headers). */
  readonly status: number | null;
  /** The status the server answered with; null when not forwarded or no answer. */
  readonly upstreamStatus: number | null;
  readonly forwarded: boolean;
  /** Request body bytes read from the client. */
  readonly bytesIn: number;
  /** Response body bytes written to the client. */
  readonly bytesOut: number;
  /** Name of the rule that fired, or null. */
  readonly rule: string | null;
  readonly action: FaultActionKind | null;
  readonly outcome: ProxiedOutcome;
  /** Date.now() when it ended; null while pending or hung. */
  readonly endTime: number | null;
  /** Why it ended abnormally, if known (upstream error message, client error). */
  readonly error: string | null;
}

export interface FaultProxyStats {
  total: number;
  byMethod: Record<string, number>;
  /** Keyed by status sent to the client, or 'none'. */
  byStatus: Record<string, number>;
  byOutcome: Partial<Record<ProxiedOutcome, number>>;
  /** Keyed by rule name; only requests where a rule fired. */
  byRule: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
}

// Header surgery for the fault proxy, both ways:
//
//   client ──headers──> [drop hop-by-hop and Expect, Host = target, Destination: proxy → target,
//                        drop Range/If-Range or preconditions when a rule says so] ──> server
//   client <──headers── [drop hop-by-hop, Location/Content-Location: target → proxy,
//                        ETag → W/"…" when a rule says so, new Content-Length if rewritten] <── server
//
// Headers travel as [name, value] pairs so names keep their case and order.
import { weakEtag } from './fault-proxy-etags.js';

export type HeaderPairs = Array<[string, string]>;

/** Never forwarded: they describe one connection, not the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** node's flat rawHeaders ([name, value, name, value, …]) as pairs. */
export function headerPairs(raw: readonly string[]): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return pairs;
}

export function flatHeaders(pairs: HeaderPairs): string[] {
  return pairs.flat();
}

/** Lower-case names; repeated headers joined with ', '. */
export function lowerCaseHeaders(pairs: HeaderPairs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`;
  }
  return out;
}

/** Hop-by-hop headers and those the Connection header names. */
function withoutHopByHop(pairs: HeaderPairs): HeaderPairs {
  const named = new Set(HOP_BY_HOP);
  for (const [name, value] of pairs) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const token of value.split(',')) named.add(token.trim().toLowerCase());
  }
  return pairs.filter(([name]) => !named.has(name.toLowerCase()));
}

/**
 * `value` with a leading origin from `from` replaced by `to` (case-insensitive on scheme and
 * host); other values unchanged.
 */
export function rewriteOrigin(value: string, from: readonly string[], to: string): string {
  for (const origin of from) {
    if (!value.toLowerCase().startsWith(origin.toLowerCase())) continue;
    const rest = value.slice(origin.length);
    if (rest === '' || rest.startsWith('/') || rest.startsWith('?') || rest.startsWith('#')) return `${to}${rest}`;
  }
  return value;
}

export interface TargetHeaderEdit {
  /** host:port of the server, for Host. */
  targetHost: string;
  targetOrigin: string;
  /** The proxy's origins as a client may spell them (127.0.0.1 and localhost). */
  proxyOrigins: readonly string[];
  /** Lower-case names to drop as well (Range, preconditions). */
  drop: ReadonlySet<string>;
}

/** The request headers to send to the server. */
export function headersForTarget(pairs: HeaderPairs, edit: TargetHeaderEdit): HeaderPairs {
  const out: HeaderPairs = [];
  let hostSeen = false;
  for (const [name, value] of withoutHopByHop(pairs)) {
    const key = name.toLowerCase();
    // The proxy answers `Expect: 100-continue` itself; the server gets the body straight away.
    if (key === 'expect' || edit.drop.has(key)) continue;
    if (key === 'host') {
      if (!hostSeen) out.push([name, edit.targetHost]);
      hostSeen = true;
    } else if (key === 'destination') {
      out.push([name, rewriteOrigin(value, edit.proxyOrigins, edit.targetOrigin)]);
    } else {
      out.push([name, value]);
    }
  }
  if (!hostSeen) out.unshift(['Host', edit.targetHost]);
  return out;
}

export interface ClientHeaderEdit {
  /** The server's origins as it may spell them in Location. */
  targetOrigins: readonly string[];
  proxyOrigin: string;
  weakEtags: boolean;
  /** Replaces Content-Length (after a body rewrite). */
  contentLength?: number;
}

/** The response headers to send to the client. */
export function headersForClient(pairs: HeaderPairs, edit: ClientHeaderEdit): HeaderPairs {
  const out: HeaderPairs = [];
  for (const [name, value] of withoutHopByHop(pairs)) {
    const key = name.toLowerCase();
    if (key === 'location' || key === 'content-location') {
      out.push([name, rewriteOrigin(value, edit.targetOrigins, edit.proxyOrigin)]);
    } else if (key === 'etag' && edit.weakEtags) {
      out.push([name, weakEtag(value)]);
    } else if (key === 'content-length' && edit.contentLength !== undefined) {
      out.push([name, String(edit.contentLength)]);
    } else {
      out.push([name, value]);
    }
  }
  return out;
}

/** The response head as it would go on the wire (for a cut in the middle of it). */
export function serializeHead(status: number, message: string, pairs: HeaderPairs): Buffer {
  const lines = [`HTTP/1.1 ${status} ${message}`, ...pairs.map(([name, value]) => `${name}: ${value}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** The body length a response head announces, or null (chunked / until close). */
export function announcedLength(pairs: HeaderPairs): number | null {
  for (const [name, value] of pairs) {
    if (name.toLowerCase() === 'content-length' && /^\d+$/.test(value.trim())) return Number(value.trim());
  }
  return null;
}

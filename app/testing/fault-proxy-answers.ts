// The answers the fault proxy makes up itself instead of forwarding: a status action (500,
// 503 maintenance, 429/503 with Retry-After, 423, 507, 413, …) and the 502 it sends when the
// server cannot be reached.
import { STATUS_CODES } from 'node:http';
import type { HeaderPairs } from './fault-proxy-headers.js';
import type { StatusAction } from './fault-proxy-types.js';

/** What a WebDAV server in maintenance mode answers (sabre/dav, as Nextcloud sends it with 503). */
export const MAINTENANCE_BODY = [
  '<?xml version="1.0" encoding="utf-8"?>',
  '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">',
  '  <s:exception>Sabre\\DAV\\Exception\\ServiceUnavailable</s:exception>',
  '  <s:message>System in maintenance mode.</s:message>',
  '</d:error>',
  '',
].join('\n');

/** A Retry-After value: whole seconds for a number, an IMF-fixdate for a Date, a string as is. */
export function retryAfterValue(value: number | Date | string): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`retryAfter: seconds must be >= 0, got ${value}`);
    return String(Math.ceil(value));
  }
  if (value instanceof Date) return value.toUTCString();
  return value;
}

export interface MadeUpAnswer {
  status: number;
  message: string;
  headers: HeaderPairs;
  body: Buffer;
  /** Close the connection after it. */
  close: boolean;
}

export function statusAnswer(action: StatusAction): MadeUpAnswer {
  const message = STATUS_CODES[action.status] ?? 'Unknown';
  const maintenance = action.status === 503 && action.body === undefined;
  const body =
    action.body === undefined
      ? Buffer.from(maintenance ? MAINTENANCE_BODY : `${action.status} ${message} (fault proxy)\n`, 'utf8')
      : typeof action.body === 'string'
        ? Buffer.from(action.body, 'utf8')
        : Buffer.from(action.body);
  const headers: HeaderPairs = [];
  const given = Object.entries(action.headers ?? {});
  const has = (name: string): boolean => given.some(([key]) => key.toLowerCase() === name);
  if (!has('content-type')) {
    headers.push(['Content-Type', maintenance ? 'application/xml; charset=utf-8' : 'text/plain; charset=utf-8']);
  }
  if (action.retryAfter !== undefined && !has('retry-after')) headers.push(['Retry-After', retryAfterValue(action.retryAfter)]);
  for (const [name, value] of given) if (name.toLowerCase() !== 'content-length') headers.push([name, value]);
  headers.push(['Content-Length', String(body.length)]);
  if (action.close === true) headers.push(['Connection', 'close']);
  return { status: action.status, message, headers, body, close: action.close === true };
}

export function badGatewayAnswer(reason: string): MadeUpAnswer {
  const body = Buffer.from(`502 Bad Gateway (fault proxy): ${reason}\n`, 'utf8');
  return {
    status: 502,
    message: 'Bad Gateway',
    headers: [
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', String(body.length)],
    ],
    body,
    close: false,
  };
}

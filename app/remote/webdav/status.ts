/**
 * HTTP statuses to error codes (RFC 9110, RFC 4918 §11), with the server's own words kept
 * (trimmed, control characters removed) so the user sees why.
 *
 *   401 AUTH   403 FORBIDDEN   404/410 NOT_FOUND   409 CONFLICT   412 PRECONDITION_FAILED
 *   413 TOO_LARGE   423 LOCKED   507 INSUFFICIENT_STORAGE   501 UNSUPPORTED
 *   408/425/429/5xx TRANSIENT (with retryAfterMs from Retry-After)   other 4xx PROTOCOL
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type ErrorCode, NetfsError } from '../../api/errors.js';
import { collectBody, type Consumer, header } from './http.js';
import { parseRetryAfter } from './http-date.js';

export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 401: return 'AUTH';
    case 403: return 'FORBIDDEN';
    case 404: case 410: return 'NOT_FOUND';
    case 409: return 'CONFLICT';
    case 412: return 'PRECONDITION_FAILED';
    case 413: return 'TOO_LARGE';
    case 423: return 'LOCKED';
    case 507: return 'INSUFFICIENT_STORAGE';
    case 501: return 'UNSUPPORTED';
    case 408: case 425: case 429: return 'TRANSIENT';
  }
  if (status >= 500) return 'TRANSIENT';
  return 'PROTOCOL';
}

/** The server's text, made safe to show: no control characters, at most 300 characters. */
export function serverWords(body: Uint8Array | null | undefined): string {
  if (body === null || body === undefined || body.length === 0) return '';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body.subarray(0, 2048));
  // eslint-disable-next-line no-control-regex -- control and bidi-override characters are what we remove
  const plain = text.replace(/<[^>]{0,200}>/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, ' ');
  const squeezed = plain.replace(/\s+/g, ' ').trim();
  return squeezed.length > 300 ? squeezed.slice(0, 300) + '…' : squeezed;
}

export function statusError(status: number, headers: IncomingHttpHeaders, what: string, body?: Uint8Array | null): NetfsError {
  const code = codeForStatus(status);
  const words = serverWords(body);
  let hint = '';
  if (status === 401) {
    const scheme = header(headers, 'www-authenticate') ?? '';
    hint = /^\s*basic/i.test(scheme) || scheme === '' ? ': user name or password refused' : `: the server wants ${scheme.split(/\s/)[0]} authentication (only Basic is supported)`;
  }
  const retryAfterMs = code === 'TRANSIENT' ? parseRetryAfter(header(headers, 'retry-after')) : undefined;
  const message = `${what}: HTTP ${status}${hint}${words === '' ? '' : ` (server says: ${words})`}`;
  return new NetfsError(code, message, retryAfterMs === undefined ? { status } : { status, retryAfterMs });
}

const ERROR_BODY_BYTES = 16 * 1024;

/** Keeps the body of an expected status (capped); any other status becomes its error, with the server's words. */
export function expectStatus(ok: readonly number[], what: string, maxBytes: number): Consumer<{ status: number; body: Buffer; headers: IncomingHttpHeaders }> {
  let status = 0;
  let headers: IncomingHttpHeaders = {};
  let body = collectBody(maxBytes, what);
  let failed = false;
  return {
    onHeaders(s, h) {
      status = s;
      headers = h;
      if (!ok.includes(s)) {
        failed = true;
        body = collectBody(ERROR_BODY_BYTES, what);
        // The error page may be long: keep its start only.
        const inner = body;
        body = { ...inner, onData: (c) => { try { inner.onData(c); } catch { /* enough of the error page */ } } };
      }
    },
    onData(c) { body.onData(c); },
    onEnd() {
      const bytes = body.onEnd();
      if (failed) throw statusError(status, headers, what, bytes);
      return { status, body: bytes, headers };
    },
  };
}


/**
 * POST /api/call/<command> for clients that do not hold a WebSocket (scripts, tests):
 *
 *   Origin foreign?                     -> 403      (another site's page)
 *   Authorization: Bearer <token>?      -> 401      (S10; constant-time compare)
 *   X-Netfs: 1?                         -> 403      (S11: a form or a simple fetch cannot set it)
 *   method POST, JSON body <= 1 MiB?    -> 405 / 415 / 413 / 400
 *   dispatch(handlers, command, args)   -> 200 { ok, value } | { ok: false, error }
 *
 * No CORS header is ever sent: a preflight gets 405 without Access-Control-Allow-*.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dispatch, type Handlers } from '../api/derive.js';
import { originVerdict } from './host-check.js';
import { sendText, setSecurityHeaders } from './security-headers.js';
import { tokenMatches } from './token.js';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const CUSTOM_HEADER = 'x-netfs';

/** The token check shared by every /api route: the Bearer token, or 401. */
export function bearerOk(req: IncomingMessage, token: string): boolean {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer ([^\s]+)$/.exec(auth) : null;
  return tokenMatches(m?.[1], token);
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_MESSAGE_BYTES) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function handleApiCall(req: IncomingMessage, res: ServerResponse, o: { port: number; token: string; handlers: Handlers; command: string }): Promise<void> {
  const origin = req.headers.origin;
  if (originVerdict(typeof origin === 'string' ? origin : undefined, o.port) === 'foreign') return sendText(res, 403, 'foreign origin');
  if (!bearerOk(req, o.token)) return sendText(res, 401, 'a token is needed (Authorization: Bearer)', { 'WWW-Authenticate': 'Bearer' });
  if (req.headers[CUSTOM_HEADER] !== '1') return sendText(res, 403, 'the X-Netfs: 1 header is needed');
  if (req.method !== 'POST') return sendText(res, 405, 'POST only', { Allow: 'POST' });
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json(\s*;|$)/i.test(type)) return sendText(res, 415, 'the body must be application/json');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_MESSAGE_BYTES) return sendText(res, 413, 'the body is over 1 MiB', { Connection: 'close' });
  const body = await readBody(req);
  if (body === 'too-large') return sendText(res, 413, 'the body is over 1 MiB', { Connection: 'close' });
  let args: unknown;
  try {
    args = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    return sendText(res, 400, 'the body is not JSON');
  }
  const result = await dispatch(o.handlers, o.command, args);
  setSecurityHeaders(res);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(result));
}

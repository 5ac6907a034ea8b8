// Reads one HTTP/1.1 request off a connection for the replay server: request line as sent,
// headers in order, body by Content-Length or chunked transfer coding. Limits keep a broken
// client from filling memory.
import type { ByteReader } from './byte-reader.js';

export interface ParsedRequest {
  method: string;
  /** The request target exactly as sent on the wire (not decoded). */
  path: string;
  httpVersion: string;
  /** Headers in order, names as sent. */
  rawHeaders: Array<[string, string]>;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RequestLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export type ReadOutcome =
  | { kind: 'request'; request: ParsedRequest }
  | { kind: 'eof' }
  | { kind: 'bad'; status: 400 | 413 | 431; reason: string };

const CRLF = Buffer.from('\r\n', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const MAX_CHUNK_LINE = 4096;
const MAX_TRAILERS = 100;

function bad(status: 400 | 413 | 431, reason: string): ReadOutcome {
  return { kind: 'bad', status, reason };
}

function parseHead(head: string): ParsedRequest | string {
  const lines = head.replace(/^(\r\n)+/, '').split('\r\n');
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/\d\.\d)$/.exec(lines[0] ?? '');
  if (match === null) return `bad request line: ${JSON.stringify((lines[0] ?? '').slice(0, 200))}`;
  const rawHeaders: Array<[string, string]> = [];
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `bad header line: ${JSON.stringify(line.slice(0, 200))}`;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return { method: match[1] ?? '', path: match[2] ?? '', httpVersion: match[3] ?? '', rawHeaders, headers, body: Buffer.alloc(0) };
}

async function readChunkedBody(reader: ByteReader, maxBodyBytes: number): Promise<Buffer | ReadOutcome> {
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const line = await reader.readUntil(CRLF, MAX_CHUNK_LINE);
    if (line === 'eof') return { kind: 'eof' };
    if (line === 'too-long') return bad(400, 'chunk size line too long');
    const size = Number.parseInt(line.toString('latin1').split(';')[0]?.trim() ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0) return bad(400, `bad chunk size line: ${line.toString('latin1')}`);
    if (size === 0) break;
    total += size;
    if (total > maxBodyBytes) return bad(413, `chunked body over ${maxBodyBytes} bytes`);
    const data = await reader.readExactly(size + 2);
    if (data === 'eof') return { kind: 'eof' };
    if (!data.subarray(size).equals(CRLF)) return bad(400, 'chunk data not followed by CRLF');
    parts.push(data.subarray(0, size));
  }
  for (let i = 0; i < MAX_TRAILERS; i++) {
    const trailer = await reader.readUntil(CRLF, MAX_CHUNK_LINE);
    if (trailer === 'eof') return { kind: 'eof' };
    if (trailer === 'too-long') return bad(400, 'trailer line too long');
    if (trailer.length === 0) return Buffer.concat(parts, total);
  }
  return bad(400, `more than ${MAX_TRAILERS} trailer lines`);
}

/**
 * Reads the next request. `onHead` runs once the head is parsed and before the body is read
 * (the place to answer `Expect: 100-continue`).
 */
export async function readRequest(
  reader: ByteReader,
  limits: RequestLimits,
  onHead: (request: ParsedRequest) => void,
): Promise<ReadOutcome> {
  const head = await reader.readUntil(HEAD_END, limits.maxHeaderBytes);
  if (head === 'eof') return { kind: 'eof' };
  if (head === 'too-long') return bad(431, `request head over ${limits.maxHeaderBytes} bytes`);
  const parsed = parseHead(head.toString('latin1'));
  if (typeof parsed === 'string') return bad(400, parsed);
  const transferEncoding = parsed.headers['transfer-encoding'];
  const contentLength = parsed.headers['content-length'];

  if (transferEncoding !== undefined) {
    if (!/(^|,)\s*chunked\s*$/i.test(transferEncoding)) return bad(400, `unsupported Transfer-Encoding: ${transferEncoding}`);
    onHead(parsed);
    const body = await readChunkedBody(reader, limits.maxBodyBytes);
    if (!Buffer.isBuffer(body)) return body;
    return { kind: 'request', request: { ...parsed, body } };
  }
  if (contentLength !== undefined) {
    if (!/^\d+$/.test(contentLength)) return bad(400, `bad Content-Length: ${contentLength}`);
    const length = Number(contentLength);
    if (length > limits.maxBodyBytes) return bad(413, `Content-Length ${length} over ${limits.maxBodyBytes} bytes`);
    if (length > 0) onHead(parsed);
    const body = await reader.readExactly(length);
    if (body === 'eof') return { kind: 'eof' };
    return { kind: 'request', request: { ...parsed, body } };
  }
  return { kind: 'request', request: parsed };
}

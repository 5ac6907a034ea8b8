// Builds raw HTTP/1.1 response bytes exactly as given (no header added unless asked), for the
// replay server and for tests that want to hand-craft a response with reply.raw().
import { STATUS_CODES } from 'node:http';

/** Bytes on the wire. Strings are encoded as UTF-8; pass a Buffer for anything else. */
export type Bytes = string | Uint8Array;

/** Headers in order; an array keeps duplicates and the exact spelling of names. */
export type HeaderInput = Record<string, string | number | readonly string[]> | ReadonlyArray<readonly [string, string]>;

export interface ResponseSpec {
  status: number;
  /** Default: the standard reason phrase. */
  statusText?: string;
  headers?: HeaderInput;
  body?: Bytes;
  /**
   * Content-Length: by default the body's real length, added unless `headers` has one.
   * A number sends that value instead (a lie, for short/long body tests); false sends none.
   */
  contentLength?: number | false;
}

export function toBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function headerList(headers: HeaderInput | undefined): Array<[string, string]> {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return (headers as ReadonlyArray<readonly [string, string]>).map(([n, v]) => [n, v]);
  const list: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers as Record<string, string | number | readonly string[]>)) {
    if (Array.isArray(value)) for (const v of value as readonly string[]) list.push([name, v]);
    else list.push([name, String(value)]);
  }
  return list;
}

export function hasHeader(list: ReadonlyArray<readonly [string, string]>, name: string): boolean {
  const lower = name.toLowerCase();
  return list.some(([n]) => n.toLowerCase() === lower);
}

/** Status line and headers, ending with the empty line. */
export function responseHead(status: number, headers: ReadonlyArray<readonly [string, string]>, statusText?: string): Buffer {
  const reason = statusText ?? STATUS_CODES[status] ?? '';
  const lines = [`HTTP/1.1 ${status} ${reason}`, ...headers.map(([n, v]) => `${n}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
}

/** A whole response: head (with Content-Length per ResponseSpec) and body. */
export function responseBytes(spec: ResponseSpec): Buffer {
  const body = spec.body === undefined ? Buffer.alloc(0) : toBuffer(spec.body);
  const headers = headerList(spec.headers);
  if (spec.contentLength !== false && !hasHeader(headers, 'content-length')) {
    headers.push(['Content-Length', String(spec.contentLength ?? body.length)]);
  }
  return Buffer.concat([responseHead(spec.status, headers, spec.statusText), body]);
}

/** One chunk of a chunked body: size in hex, CRLF, data, CRLF. */
export function chunkBytes(data: Bytes): Buffer {
  const buf = toBuffer(data);
  return Buffer.concat([Buffer.from(`${buf.length.toString(16)}\r\n`, 'latin1'), buf, Buffer.from('\r\n', 'latin1')]);
}

/** The last chunk and the end of the (empty) trailer section. */
export const FINAL_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

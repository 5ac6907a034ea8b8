// A tiny real HTTP client for the harness and its tests: one request on a fresh connection
// (no pooling, so nothing lingers across a server restart), the whole body in memory.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpRequestOptions {
  url: string | URL;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Adds `Authorization: Basic ...`. */
  auth?: { user: string; password: string };
  /** Idle timeout of the socket; the request fails with an Error after it. Default 10 s. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text(): string;
}

/** The value of an `Authorization` header for HTTP Basic. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const url = new URL(options.url);
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers['Authorization'] = basicAuth(options.auth.user, options.auth.password);
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  if (body !== undefined) headers['Content-Length'] = String(body.byteLength);
  const timeoutMs = options.timeoutMs ?? 10_000;

  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'GET',
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: () => all.toString('utf8') });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${req.method} ${url.href}: no activity for ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

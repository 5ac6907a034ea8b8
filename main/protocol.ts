/**
 * The UI's own origin, `app://netfs/…`, served from the built renderer (dist/renderer) by a
 * custom protocol handler, never from `file://` (S5; electron security checklist #18).
 *
 *   app://netfs/assets/x.js --parse--> host == netfs? GET/HEAD?
 *        --decode each name--> refuse "..", ".", "/", "\", NUL, empty  (403)
 *        --resolve under root, realpath still under root?-->            (403 if not)
 *        --a regular file?--> 200 + Content-Type + strict CSP + nosniff (404 if not)
 *
 * `registerAppScheme` must run before the app is ready; `installAppProtocol` after.
 */
import { realpath, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';

export const APP_SCHEME = 'app';
export const APP_HOST = 'netfs';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The Content-Security-Policy of every answer: the UI's own files only; no inline script, no
 * eval, no plugins, no framing, no forms, no remote connections (the UI talks to the engine
 * over the preload bridge, not the network).
 */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The request fields the handler reads (a subset of the Fetch API's Request). */
export interface AppRequest {
  url: string;
  method: string;
}

/** What a URL asks for: a file path under `root`, or why it is refused. */
export type AppTarget = { kind: 'file'; path: string } | { kind: 'refused'; status: 400 | 403 | 404; reason: string };

/**
 * Maps an app:// URL to a path under `root` without touching the disk (the symlink check is in
 * `handleAppRequest`). Any name that could leave the folder is refused, even where the URL
 * parser already folded it away.
 */
export function resolveAppPath(root: string, rawUrl: string): AppTarget {
  // Look at the raw text first: the URL parser folds "..", and a refused URL must stay refused.
  const rawPath = rawUrl.replace(/^[a-z]+:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
  if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(rawPath) || /%2f|%5c|\\|%00/i.test(rawPath)) return { kind: 'refused', status: 403, reason: 'a path that climbs or hides a separator' };
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { kind: 'refused', status: 400, reason: 'not a URL' };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return { kind: 'refused', status: 404, reason: 'not the app origin' };
  const names: string[] = [];
  for (const encoded of url.pathname.split('/').slice(1)) {
    if (encoded === '') continue;
    let name: string;
    try {
      name = decodeURIComponent(encoded);
    } catch {
      return { kind: 'refused', status: 400, reason: 'bad percent-encoding' };
    }
    if (name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
      return { kind: 'refused', status: 403, reason: `refused name ${JSON.stringify(name)}` };
    }
    names.push(name);
  }
  const base = resolve(root);
  const path = names.length === 0 ? join(base, 'index.html') : resolve(base, ...names);
  if (!path.startsWith(base + sep)) return { kind: 'refused', status: 403, reason: 'outside the UI folder' };
  return { kind: 'file', path };
}

function refusal(status: number, reason: string): Response {
  return new Response(`${status} ${reason}\n`, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': APP_CSP, 'X-Content-Type-Options': 'nosniff' },
  });
}

/** Answers one request for the UI's files from `root` (dist/renderer). Never throws. */
export async function handleAppRequest(root: string, request: AppRequest): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405, 'method not allowed');
  const target = resolveAppPath(root, request.url);
  if (target.kind === 'refused') return refusal(target.status, target.reason);
  try {
    // A symlink inside the folder must not lead out of it.
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(target.path)]);
    if (!realFile.startsWith(realRoot + sep)) return refusal(403, 'outside the UI folder');
    const info = await stat(realFile);
    if (!info.isFile()) return refusal(404, 'not found');
    const body = request.method === 'HEAD' ? null : await readFile(realFile);
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': CONTENT_TYPES[extname(realFile).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': String(info.size),
        'Content-Security-Policy': APP_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      },
    });
  } catch {
    return refusal(404, 'not found');
  }
}

/** Declares app:// a standard, secure scheme (before `app` is ready): same-origin rules and `fetch` apply. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves app:// from `root` (after `app` is ready). */
export function installAppProtocol(protocol: Pick<Protocol, 'handle'>, root: string): void {
  protocol.handle(APP_SCHEME, (request) => handleAppRequest(root, request));
}

/**
 * The built renderer's files (dist/renderer), public like any web page's: GET and HEAD only,
 * nothing outside the folder (no '..', no NUL, no symlink leading out), security headers on all.
 *
 *   /            -> index.html
 *   /assets/x.js -> <dir>/assets/x.js                      missing -> 404
 *   folder missing (UI not built) -> the index route answers 503 "the UI is not built: run npm
 *   run build" in plain text; there is no stand-in page
 */
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve, sep } from 'node:path';
import { contentTypeOf } from './mime.js';
import { repoRoot } from './repo-root.js';
import { sendText, setSecurityHeaders } from './security-headers.js';

export const UI_NOT_BUILT = 'the UI is not built: run npm run build';

/** dist/renderer of this checkout (source or built). */
export function defaultRendererDir(): string {
  return join(repoRoot(), 'dist', 'renderer');
}

async function fileUnder(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((n) => n === '..' || n === '.')) return null;
  const rel = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const candidate = resolve(root, rel);
  if (!candidate.startsWith(root + sep)) return null;
  const real = await realpath(candidate).catch(() => null);
  const realRoot = await realpath(root).catch(() => null);
  if (real === null || realRoot === null || !real.startsWith(realRoot + sep)) return null;
  const info = await stat(real).catch(() => null);
  return info !== null && info.isFile() ? real : null;
}

export async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'only GET and HEAD here', { Allow: 'GET, HEAD' });
    return;
  }
  const isIndex = pathname === '/' || pathname === '/index.html';
  if (!existsSync(join(root, 'index.html'))) {
    if (isIndex) sendText(res, 503, UI_NOT_BUILT);
    else sendText(res, 404, 'not found');
    return;
  }
  const file = await fileUnder(root, pathname);
  if (file === null) {
    sendText(res, 404, 'not found');
    return;
  }
  const info = await stat(file);
  setSecurityHeaders(res);
  res.writeHead(200, { 'Content-Type': contentTypeOf(file) ?? 'application/octet-stream', 'Content-Length': String(info.size), 'Cache-Control': 'no-cache' });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

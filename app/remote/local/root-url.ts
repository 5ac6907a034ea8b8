/**
 * The root of a local remote: a `file:` URL in, an absolute disk folder and a normalised
 * origin out.
 *
 *   "file:///srv/share/"       --rootFromUrl-->  "/srv/share"  --originOf-->  "file:///srv/share"
 *   "file://localhost/srv/a%20b" ------------->  "/srv/a b"    ------------>  "file:///srv/a%20b"
 *   "file:relative", "http://x", "file://nas/share", "file:///a?b" --> INVALID_ARGUMENT
 *   ("file:/srv/share", the minimal form of RFC 8089, is accepted)
 *
 * The root itself may be a symlink (a mount point often is); what lies below it is checked
 * by disk-path.ts.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NetfsError } from '../../api/errors.js';

const ABSOLUTE_FILE_URL = /^file:(\/\/(localhost)?)?\//i;

/** The disk folder a `file:///abs/path` URL names, normalised (no trailing slash except '/'). */
export function rootFromUrl(url: string): string {
  if (typeof url !== 'string') throw new NetfsError('INVALID_ARGUMENT', 'local backend: url must be a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new NetfsError('INVALID_ARGUMENT', `local backend: not a URL: ${JSON.stringify(url)}`, { cause: error });
  }
  if (parsed.protocol !== 'file:') {
    throw new NetfsError('INVALID_ARGUMENT', `local backend: expected a file: URL, got ${JSON.stringify(parsed.protocol)} in ${JSON.stringify(url)}`);
  }
  if (!ABSOLUTE_FILE_URL.test(url)) {
    throw new NetfsError('INVALID_ARGUMENT', `local backend: the URL must name an absolute path on this machine (file:///abs/path): ${JSON.stringify(url)}`);
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new NetfsError('INVALID_ARGUMENT', `local backend: a file: URL must not carry a query or fragment (encode "?" as %3F and "#" as %23): ${JSON.stringify(url)}`);
  }
  let dir: string;
  try {
    dir = fileURLToPath(parsed);
  } catch (error) {
    throw new NetfsError('INVALID_ARGUMENT', `local backend: cannot turn ${JSON.stringify(url)} into a path: ${(error as Error).message}`, { cause: error });
  }
  return normaliseRoot(dir);
}

/** An absolute disk folder, normalised; a relative one is refused. */
export function normaliseRoot(dir: string): string {
  if (typeof dir !== 'string' || !path.isAbsolute(dir)) {
    throw new NetfsError('INVALID_ARGUMENT', `local backend: the root must be an absolute path: ${JSON.stringify(dir)}`);
  }
  if (dir.includes('\0')) throw new NetfsError('INVALID_ARGUMENT', 'local backend: the root contains a NUL character');
  return path.resolve(dir);
}

/** The origin of a root: its file: URL, without a trailing slash except for '/'. */
export function originOf(root: string): string {
  const href = pathToFileURL(root).href;
  return href.endsWith('/') && href !== 'file:///' ? href.slice(0, -1) : href;
}

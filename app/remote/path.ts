/**
 * Remote paths: '/' for the account's root, '/docs/a b.txt' below it, as decoded names.
 *
 *   "/docs/a b.txt"  --parseRemotePath-->  ["docs", "a b.txt"]  --joinRemotePath-->  "/docs/a b.txt"
 *
 * A name is kept byte for byte (no Unicode normalisation, no case folding). Names that
 * could not be stored safely on every client are refused with a reason, never rewritten:
 * '', '.', '..', anything with '/', '\' or a control character (U+0000-U+001F, U+007F: Windows
 * refuses them, and servers such as rclone serve silently store them as other characters),
 * ill-formed UTF-16, more than 255 UTF-8 bytes.
 */
import { NetfsError } from '../api/errors.js';

/** Linux NAME_MAX; the strictest common limit of the filesystems a sync folder lives on. */
export const MAX_NAME_BYTES = 255;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const CONTROL = /[\u0000-\u001f\u007f]/;
const utf8 = new TextEncoder();

/** Why `name` is not acceptable as one path segment, or null when it is. */
export function nameProblem(name: string): string | null {
  if (name === '') return 'empty name';
  if (name === '.' || name === '..') return `"${name}" is not a name`;
  if (name.includes('/')) return 'name contains "/"';
  if (name.includes('\\')) return 'name contains "\\" (a path separator on Windows)';
  const control = CONTROL.exec(name);
  if (control !== null) return `name contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (LONE_SURROGATE.test(name)) return 'name is not valid Unicode (lone surrogate)';
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short names need no encoding (listings and scans check every name).
  if (name.length * 3 <= MAX_NAME_BYTES) return null;
  const bytes = utf8.encode(name).length;
  if (bytes > MAX_NAME_BYTES) return `name is ${bytes} bytes long (at most ${MAX_NAME_BYTES})`;
  return null;
}

/** Splits a remote path into its names, refusing anything that is not a clean path. */
export function parseRemotePath(path: string): string[] {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new NetfsError('INVALID_ARGUMENT', `remote path must start with "/": ${JSON.stringify(path)}`);
  }
  if (path === '/') return [];
  if (path.endsWith('/')) {
    throw new NetfsError('INVALID_ARGUMENT', `remote path must not end with "/": ${JSON.stringify(path)}`);
  }
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    const problem = nameProblem(segment);
    if (problem !== null) {
      throw new NetfsError('INVALID_ARGUMENT', `bad remote path ${JSON.stringify(path)}: ${problem}`);
    }
  }
  return segments;
}

export function joinRemotePath(segments: readonly string[]): string {
  return '/' + segments.join('/');
}

/** The last name of a path ('' for the root). */
export function baseName(path: string): string {
  const segments = parseRemotePath(path);
  return segments[segments.length - 1] ?? '';
}

/** The parent folder of a path; the root has none. */
export function parentPath(path: string): string {
  const segments = parseRemotePath(path);
  if (segments.length === 0) throw new NetfsError('INVALID_ARGUMENT', 'the root has no parent');
  return joinRemotePath(segments.slice(0, -1));
}

/** `folder` + one child name, checked. */
export function childPath(folder: string, name: string): string {
  const segments = parseRemotePath(folder);
  const problem = nameProblem(name);
  if (problem !== null) throw new NetfsError('INVALID_ARGUMENT', `bad name ${JSON.stringify(name)}: ${problem}`);
  return joinRemotePath([...segments, name]);
}

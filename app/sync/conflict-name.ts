/**
 * Names for the copies the sync layer keeps beside a file (DESIGN §6, issue 5 item 5):
 *
 *   report.pdf  ->  report (conflicted copy 2025-03-07 142501).pdf      local time
 *   a.tar.gz    ->  a.tar (conflicted copy 2025-03-07 142501).gz        last extension only
 *   .bashrc     ->  .bashrc (conflicted copy 2025-03-07 142501)         none for dotfiles
 *   Makefile    ->  Makefile (conflicted copy 2025-03-07 142501)
 *   taken       ->  report (conflicted copy 2025-03-07 142501) 2.pdf, then 3, ...
 *
 * A name never exceeds 255 UTF-8 bytes (NAME_MAX): the stem is cut on a code-point boundary. The
 * same shape with another label names a restored trash entry that must not overwrite a file.
 */
import { NetfsError } from '../api/errors.js';
import { nameOf, parentOf } from './tree-paths.js';

export const MAX_NAME_BYTES = 255;
const MAX_TRIES = 10_000;
const utf8 = new TextEncoder();

/** `name` split before its last extension; dotfiles and names ending in '.' have none. */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/** 'YYYY-MM-DD HHMMSS' in local time. */
export function copyStamp(when: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(when.getFullYear(), 4)}-${p(when.getMonth() + 1)}-${p(when.getDate())} ${p(when.getHours())}${p(when.getMinutes())}${p(when.getSeconds())}`;
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, cut between code points. */
export function trimToBytes(text: string, maxBytes: number): string {
  if (utf8.encode(text).length <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const codePoint of text) {
    const size = utf8.encode(codePoint).length;
    if (bytes + size > maxBytes) break;
    out += codePoint;
    bytes += size;
  }
  return out;
}

/**
 * The first free name `stem (<label> <stamp>)[ n]ext` for `name`, as judged by `exists`.
 * Throws CONFLICT when 10,000 candidates are all taken.
 */
export function labelledCopyName(name: string, label: string, when: Date, exists: (name: string) => boolean = () => false): string {
  let { stem, ext } = splitExtension(name);
  const tag = ` (${label} ${copyStamp(when)})`;
  // An extension too long to keep beside the tag is treated as part of the stem.
  if (utf8.encode(tag + ' 99999' + ext).length >= MAX_NAME_BYTES) {
    stem = name;
    ext = '';
  }
  for (let n = 1; n <= MAX_TRIES; n++) {
    const suffix = tag + (n === 1 ? '' : ` ${n}`) + ext;
    const candidate = trimToBytes(stem, MAX_NAME_BYTES - utf8.encode(suffix).length) + suffix;
    if (!exists(candidate)) return candidate;
  }
  throw new NetfsError('CONFLICT', `no free name for a copy of ${JSON.stringify(name)}: ${MAX_TRIES} candidates are taken`);
}

/** The conflict copy's name for `name` (our version, when both sides changed). */
export function conflictCopyName(name: string, when: Date, exists?: (name: string) => boolean): string {
  return labelledCopyName(name, 'conflicted copy', when, exists);
}

/** The same for a remote path: '/docs/a.txt' -> '/docs/a (conflicted copy …).txt'; `exists` gets paths. */
export function conflictCopyPath(path: string, when: Date, exists: (path: string) => boolean = () => false): string {
  const parent = parentOf(path);
  const join = (name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);
  return join(conflictCopyName(nameOf(path), when, (name) => exists(join(name))));
}

/** The name a trash entry is restored under when its original name is taken. */
export function restoredCopyName(name: string, when: Date, exists?: (name: string) => boolean): string {
  return labelledCopyName(name, 'restored copy', when, exists);
}

/**
 * What the sync leaves out of the sync folder (issue 5 item 8): built-in temp-file patterns, then
 * `.netfs-ignore` in the sync root (gitignore syntax, via the `ignore` package), and always the
 * client's own top-level `.netfs*` names, which are never uploaded.
 *
 *   isIgnored('/a/b.swp', 'file')
 *     '/.netfs…' at the top level ------------------------------> ignored, always
 *     built-ins (*.swp, *~, .~lock.*#, ~$*, .DS_Store, ...) ----+
 *     .netfs-ignore lines (later lines win, `!` re-includes) ---+--> gitignore match of 'a/b.swp'
 *                                                                    (folders as 'a/b/'; a path
 *                                                                    below an ignored folder is ignored)
 *
 * Matching is case-sensitive, as git's is on Linux.
 *
 * Speed (a 50,000-entry pass asks twice per entry): when the ignore file adds no rule, only the
 * built-ins apply, and they are all names without a slash or a `!`: a path is then ignored
 * exactly when one of its names is, so each name is matched once (memoised) instead of the
 * whole path (gitignore's per-path walk costs about 12 µs a path). With user rules, every path
 * goes to the matcher.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { NetfsError } from '../api/errors.js';

export const IGNORE_FILE_NAME = '.netfs-ignore';
/** Names the client keeps at the top level of the sync root start with this. */
export const CLIENT_NAME_PREFIX = '.netfs';
/** A larger ignore file is refused rather than read into memory. */
export const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/** Editor swap and lock files, partial downloads, OS metadata (Syncthing's and Nextcloud's usual set). */
export const BUILTIN_IGNORE_PATTERNS: readonly string[] = [
  '*.swp', // vim swap files
  '*~', // backup files of many editors
  '.~lock.*#', // LibreOffice locks
  '~$*', // Microsoft Office owner files
  '.DS_Store',
  'Thumbs.db',
  '*.part', // partial downloads (Firefox, KDE)
  '*.crdownload', // partial downloads (Chromium)
  '.#*', // Emacs locks
  '4913', // vim's probe file when it checks that a folder is writable
  '.netfs-partial-*', // our own copies in progress (placing a download across filesystems)
  '.netfs-upload-*', // our uploads in progress on the server, any folder (step-upload-temp.ts)
];

/** True for the client's own names: '.netfs*' directly in the sync root. */
export function isClientPath(path: string): boolean {
  return path.startsWith('/' + CLIENT_NAME_PREFIX) && path.indexOf('/', 1) === -1;
}

export class IgnoreRules {
  /** The lines of `.netfs-ignore` as read ([] without one). */
  readonly userPatterns: readonly string[];
  private readonly matcher: Ignore;
  /** Only the built-ins apply (no user rule): names are matched one by one, memoised. */
  private readonly namesOnly: boolean;
  private readonly byName = new Map<string, boolean>();

  private constructor(userText: string) {
    this.userPatterns = userText.split(/\r?\n/);
    this.matcher = ignore({ ignorecase: false }).add([...BUILTIN_IGNORE_PATTERNS]).add(userText);
    // Blank lines and comments add no rule (a line starting with `\#` is a pattern).
    this.namesOnly = this.userPatterns.every((l) => l.trim() === '' || l.startsWith('#'));
  }

  /** Rules from the text of an ignore file (the built-ins come first, so `!` lines can re-include). */
  static fromText(text: string): IgnoreRules {
    return new IgnoreRules(text);
  }

  /** Rules from `<root>/.netfs-ignore`, or the built-ins alone when there is none. */
  static async load(root: string): Promise<IgnoreRules> {
    const file = join(root, IGNORE_FILE_NAME);
    try {
      const info = await stat(file);
      if (!info.isFile()) return new IgnoreRules('');
      if (info.size > MAX_IGNORE_FILE_BYTES) throw new NetfsError('TOO_LARGE', `${file} is ${info.size} bytes (at most ${MAX_IGNORE_FILE_BYTES})`);
      return new IgnoreRules(await readFile(file, 'utf8'));
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return new IgnoreRules('');
      if (error instanceof NetfsError) throw error;
      throw new NetfsError('IO', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** True when the sync leaves `path` (a remote path: '/a/b.txt') out, on both sides. */
  isIgnored(path: string, kind: 'file' | 'folder'): boolean {
    if (path === '/' || !path.startsWith('/')) return false;
    if (isClientPath(path)) return true;
    if (this.namesOnly) return this.anyNameIgnored(path, kind);
    return this.ask(path.slice(1) + (kind === 'folder' ? '/' : ''));
  }

  /** Built-ins only: the path is ignored when one of its names is (a folder's as a folder). */
  private anyNameIgnored(path: string, kind: 'file' | 'folder'): boolean {
    let from = 1;
    for (;;) {
      const slash = path.indexOf('/', from);
      const last = slash < 0;
      const name = path.slice(from, last ? undefined : slash) + (last && kind === 'file' ? '' : '/');
      let hit = this.byName.get(name);
      if (hit === undefined) {
        if (this.byName.size >= 100_000) this.byName.clear();
        hit = this.ask(name);
        this.byName.set(name, hit);
      }
      if (hit) return true;
      if (last) return false;
      from = slash + 1;
    }
  }

  private ask(relative: string): boolean {
    try {
      return this.matcher.ignores(relative);
    } catch {
      return false; // a path the matcher cannot take (discovery refuses such names anyway)
    }
  }

  /** `isIgnored` as a free function, for discovery and the watcher. */
  readonly predicate = (path: string, kind: 'file' | 'folder'): boolean => this.isIgnored(path, kind);
}

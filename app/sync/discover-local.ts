/**
 * Local discovery: a full scan of the sync root into a LocalTree (paths in remote form,
 * '/a/b'), several directories at a time from a bounded work queue (discover-queue.ts).
 *
 *   stat(root) ── missing / not a folder ──> rootMissing: true, empty tree (F17: the caller holds)
 *      |
 *   readdir(dir, {withFileTypes, encoding: 'buffer'})     raw names, byte for byte
 *      |  top-level .netfs* ───────────────> skipped (the client's own files)
 *      |  not UTF-8 ───────────────────────> problem BAD_NAME (no remote path can name it)
 *      |  nameProblem(name) ───────────────> problem BAD_NAME, blind
 *      |  symlink (never followed, M2) ────> problem SYMLINK, blind
 *      |  FIFO, socket, device ────────────> problem UNSUPPORTED_KIND, blind
 *      |  ignore(path, kind) ──────────────> left out (no lstat; an ignored folder is not entered)
 *      v
 *   lstatSync each (never following) ── gone meanwhile ──> problem VANISHED, blind
 *      |                          ── other error ────> problem UNREADABLE, blind
 *      v
 *   tree: { path, kind, size, mtimeMs, ino }; folders are queued and read in turn
 *      (a folder that vanishes before it is read: VANISHED, dropped; unreadable: UNREADABLE, kept)
 *
 * Blind paths: the planner touches nothing at or under them (model.ts Blind.localPaths), so a
 * file that turned into a symlink, or a folder that could not be read, is never taken for deleted.
 */
import { lstatSync, type Dirent, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NetfsError } from '../api/errors.js';
import { nameProblem } from '../remote/path.js';
import { runQueue } from './discover-queue.js';
import type { LocalEntry, LocalTree } from './model.js';

export const DEFAULT_SCAN_CONCURRENCY = 8;
/** What the client keeps in the sync folder is named so, at the top level only (DESIGN §1). */
export const CLIENT_PREFIX = '.netfs';

export type IgnorePredicate = (path: string, kind: 'file' | 'folder') => boolean;

export interface ScanLocalOptions {
  /** True for paths to leave out (ignore patterns); an ignored folder is not entered. */
  ignore?: IgnorePredicate;
  /** Directories read at a time (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
}

export type LocalProblemKind = 'SYMLINK' | 'UNSUPPORTED_KIND' | 'BAD_NAME' | 'UNREADABLE' | 'VANISHED';

export interface LocalProblem {
  /** The path in remote form; for a name that is not UTF-8, its bytes escaped as %XX. */
  path: string;
  kind: LocalProblemKind;
  message: string;
}

export interface LocalScan {
  tree: LocalTree;
  /** Paths the planner must leave alone (at and under them): see the diagram. */
  blindPaths: string[];
  problems: LocalProblem[];
  /** The root does not exist or is not a folder: the tree is empty and means nothing. */
  rootMissing: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True for the client's own top-level names ('.netfs', '.netfs-ignore', '.netfs-state', …). */
export function isClientName(path: string): boolean {
  return path.startsWith(`/${CLIENT_PREFIX}`) && path.indexOf('/', 1) === -1;
}

export async function scanLocal(root: string, options: ScanLocalOptions = {}): Promise<LocalScan> {
  const concurrency = options.concurrency ?? DEFAULT_SCAN_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new NetfsError('INVALID_ARGUMENT', `scan concurrency must be a whole number of at least 1, not ${concurrency}`);
  }
  const ignore = options.ignore ?? (() => false);
  const tree = new Map<string, LocalEntry>();
  const blindPaths: string[] = [];
  const problems: LocalProblem[] = [];

  let rootStats: Stats;
  try {
    rootStats = await stat(root); // the root itself may be a symlink the user chose; nothing below is followed
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { tree, blindPaths, problems, rootMissing: true };
    throw osError(error, `sync folder ${root}`);
  }
  if (!rootStats.isDirectory()) return { tree, blindPaths, problems, rootMissing: true };

  const problem = (path: string, kind: LocalProblemKind, message: string, blind = true): void => {
    problems.push({ path, kind, message });
    if (blind) blindPaths.push(path);
  };

  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) stop.abort();

  const readFolder = async (folder: string, queue: string[]): Promise<void> => {
    if (stop.signal.aborted) throw new NetfsError('CANCELLED', 'local scan cancelled');
    const disk = folder === '/' ? root : join(root, folder);
    let dirents: Dirent<Buffer>[];
    try {
      dirents = await readdir(disk, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      const code = errnoOf(error);
      if (folder === '/') throw osError(error, `sync folder ${root}`);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        tree.delete(folder);
        problem(folder, 'VANISHED', 'the folder disappeared during the scan');
      } else {
        problem(folder, 'UNREADABLE', `the folder cannot be read (${code ?? String(error)})`);
      }
      return;
    }
    const prefix = folder === '/' ? '/' : `${folder}/`;
    const toStat: Array<{ path: string; disk: string; seen: 'file' | 'folder' | null }> = [];
    for (const dirent of dirents) {
      const name = decode(dirent.name);
      if (name === null) {
        problem(prefix + escapeBytes(dirent.name), 'BAD_NAME', 'the name is not valid UTF-8: no remote name can stand for it', false);
        continue;
      }
      const path = prefix + name;
      if (folder === '/' && name.startsWith(CLIENT_PREFIX)) continue;
      const bad = nameProblem(name);
      if (bad !== null) {
        problem(path, 'BAD_NAME', `${bad}: it cannot be stored on the server`);
        continue;
      }
      if (dirent.isSymbolicLink()) {
        problem(path, 'SYMLINK', 'symbolic link: never followed, never synced');
        continue;
      }
      const kind = dirent.isDirectory() ? 'folder' : dirent.isFile() ? 'file' : null;
      if (kind === null && !isUnknownType(dirent)) {
        problem(path, 'UNSUPPORTED_KIND', `${kindName(dirent)}: neither a file nor a folder`);
        continue;
      }
      if (kind !== null && ignore(path, kind)) continue;
      toStat.push({ path, disk: join(disk, name), seen: kind });
    }
    // lstat on the main thread, one folder's entries at a time: a local lstat is a few
    // microseconds, while a trip through libuv's pool costs several times that in CPU (a 50,000
    // entry scan: about 3x less CPU, measured). The folders themselves are read asynchronously.
    for (const { path, disk: at, seen } of toStat) {
      let result: Stats | undefined;
      try {
        result = lstatSync(at, { throwIfNoEntry: false });
      } catch (error) {
        const code = errnoOf(error);
        if (code === 'ENOTDIR') problem(path, 'VANISHED', 'it disappeared during the scan');
        else problem(path, 'UNREADABLE', `it cannot be examined (${code ?? String(error)})`);
        continue;
      }
      if (result === undefined) {
        problem(path, 'VANISHED', 'it disappeared during the scan');
        continue;
      }
      // The dirent type was a glimpse; lstat says what is there now.
      if (result.isSymbolicLink()) {
        problem(path, 'SYMLINK', 'symbolic link: never followed, never synced');
        continue;
      }
      const kind = result.isDirectory() ? 'folder' : result.isFile() ? 'file' : null;
      if (kind === null) {
        problem(path, 'UNSUPPORTED_KIND', 'neither a file nor a folder');
        continue;
      }
      if (kind !== seen && ignore(path, kind)) continue; // the type was unknown, or changed since readdir
      tree.set(path, { path, kind, size: kind === 'file' ? result.size : 0, mtimeMs: result.mtimeMs, ino: result.ino });
      if (kind === 'folder') queue.push(path);
    }
  };

  try {
    await runQueue(['/'], concurrency, readFolder, stop);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { tree, blindPaths, problems, rootMissing: false };
}

function decode(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Raw name bytes for a log line: printable ASCII as is, everything else (and '%') as %XX. */
function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Some filesystems do not report types in readdir (DT_UNKNOWN): lstat decides then. */
function isUnknownType(d: Dirent<Buffer>): boolean {
  return !d.isFile() && !d.isDirectory() && !d.isSymbolicLink() && !d.isFIFO() && !d.isSocket() && !d.isBlockDevice() && !d.isCharacterDevice();
}

function kindName(d: Dirent<Buffer>): string {
  if (d.isFIFO()) return 'named pipe';
  if (d.isSocket()) return 'socket';
  if (d.isBlockDevice()) return 'block device';
  return 'character device';
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function osError(error: unknown, what: string): NetfsError {
  const code = errnoOf(error);
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (code === 'EACCES' || code === 'EPERM') return new NetfsError('FORBIDDEN', message, { cause: error });
  if (code === 'ENOENT') return new NetfsError('NOT_FOUND', message, { cause: error });
  return new NetfsError('IO', message, { cause: error });
}

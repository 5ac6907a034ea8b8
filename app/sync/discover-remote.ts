/**
 * Remote discovery: the whole remote tree, one PROPFIND Depth 1 per folder (backend.list),
 * several folders at a time from a bounded work queue (iterative: a 1,000-deep tree is a
 * long queue, never a deep stack).
 *
 *   queue ['/'] ──> up to `concurrency` list() calls in flight ──> entries into the tree
 *      ^                          |                                  |
 *      |                          | per-folder error (F4):           | a folder child:
 *      |                          |   403/404/409/423/5xx/IO         |   ETag unchanged and the server's
 *      |                          |   -> blind.remoteFolders,        |   folder ETags propagate
 *      |                          |      its subtree left out        |     -> previousSubtree(path) reused
 *      |                          | anything else, or the root (F5): |   else
 *      |                          |   -> the whole discovery fails   |     -> queued
 *      +------------------------------------------------------------ +
 *
 * Entries a listing dropped as odd (B4, M1: ListResult.problems) are returned as `problems`,
 * and those that still name a child of the listed folder (missing properties, a status inside
 * the 207, duplicates, symlinks of a local-folder remote) go to blind.remotePaths: the planner
 * never deletes them nor assumes them unchanged.
 *
 * A failure that means the server's answers cannot be trusted (the root's listing, 400, 401,
 * an HTML 200, broken or cut XML, a timeout, a reset, 429, an answer over the size cap) fails the
 * whole discovery with a NetfsError and returns nothing partial, so nothing is planned from it.
 *
 * `folderEtags` holds the ETag of every folder whose whole subtree was seen cleanly (no blind
 * folder, no dropped entry anywhere below it): only those may be skipped next time. The caller
 * should record a folder's ETag for the next pass only once everything below it is in the
 * journal as seen (as Nextcloud does), else the skip would hide what was not synced.
 */
import { isNetfsError, NetfsError } from '../api/errors.js';
import type { Capabilities, ListProblemKind, ListResult, RemoteEntry } from '../api/remote.js';
import type { RemoteBackend } from '../remote/backend.js';
import { nameProblem } from '../remote/path.js';
import { decodePathname } from '../remote/webdav/href.js';
import { runQueue } from './discover-queue.js';
import type { Blind, RemoteTree } from './model.js';

export const DEFAULT_DISCOVERY_CONCURRENCY = 8;

export interface DiscoverRemoteOptions {
  /** Folders listed at a time (default 8). */
  concurrency?: number;
  /** Folder ETags of the last pass (path -> etag, from the journal); with `previousSubtree`, enables skipping. */
  previousFolderEtags?: ReadonlyMap<string, string>;
  /** Every entry strictly below `path` as the last pass saw it (from the journal). */
  previousSubtree?: (path: string) => readonly RemoteEntry[];
  /** The backend's capabilities when the caller has them; else asked of the backend (only when skipping is possible). */
  capabilities?: Capabilities;
  signal?: AbortSignal;
}

/** One entry a listing left out (B4, M1), with where it was seen. */
export interface RemoteProblem {
  /** The folder whose listing had it. */
  folder: string;
  /** The entry's remote path when its name is usable (then it is in blind.remotePaths), else null. */
  path: string | null;
  kind: ListProblemKind;
  href: string;
  message: string;
}

/** A folder whose listing failed (F4): it and its subtree are blind. */
export interface FolderFailure {
  path: string;
  code: NetfsError['code'];
  status: number | null;
  message: string;
}

export interface RemoteDiscovery {
  /** Every entry below the root (the root itself excluded), in no particular order. */
  tree: RemoteTree;
  /** The root folder as the server described it. */
  root: RemoteEntry;
  blind: Pick<Blind, 'remoteFolders' | 'remotePaths'>;
  problems: RemoteProblem[];
  failures: FolderFailure[];
  /** ETags of the folders ('/' included) whose whole subtree was seen cleanly. */
  folderEtags: Map<string, string>;
  /** list() calls made (PROPFIND Depth 1 requests for WebDAV). */
  propfinds: number;
  /** Folders not listed because their ETag was unchanged (their previous subtree was reused). */
  skippedFolders: number;
  /** Whether unchanged subtrees could be skipped in this pass. */
  skipping: boolean;
}

/** Problem kinds that still name a child of the listed folder; the others name nothing usable. */
const NAMED_KINDS: ReadonlySet<ListProblemKind> = new Set(['MISSING_PROPERTIES', 'ENTRY_STATUS', 'DUPLICATE', 'UNSUPPORTED_KIND']);

/**
 * Whether a failed listing of a sub-folder blinds only that folder (F4) rather than meaning the
 * server's answers are broken (F5). 429 and timeouts/resets (TRANSIENT without a status) are
 * about the server as a whole; 5xx statuses are per folder.
 */
export function isPerFolderFailure(error: unknown): boolean {
  if (!isNetfsError(error)) return false;
  switch (error.code) {
    case 'FORBIDDEN':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'LOCKED':
    case 'IO':
      return true;
    case 'TRANSIENT':
      return error.status !== undefined && error.status >= 500 && error.status <= 599;
    default:
      return false;
  }
}

export async function discoverRemote(backend: RemoteBackend, options: DiscoverRemoteOptions = {}): Promise<RemoteDiscovery> {
  const concurrency = options.concurrency ?? DEFAULT_DISCOVERY_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new NetfsError('INVALID_ARGUMENT', `discovery concurrency must be a whole number of at least 1, not ${concurrency}`);
  }
  const previousEtags = options.previousFolderEtags;
  const previousSubtree = options.previousSubtree;
  const skipping = previousEtags !== undefined && previousEtags.size > 0 && previousSubtree !== undefined && (await propagates(backend, options));

  const tree = new Map<string, RemoteEntry>();
  const blindFolders: string[] = [];
  const blindPaths: string[] = [];
  const problems: RemoteProblem[] = [];
  const failures: FolderFailure[] = [];
  /** Folders with something unseen at or below them: their ETags must not be trusted next time. */
  const unclean = new Set<string>();
  const seen: { root: RemoteEntry | null } = { root: null };
  let propfinds = 0;
  let skippedFolders = 0;

  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) stop.abort();

  const markUnclean = (folder: string): void => {
    for (let p: string | null = folder; p !== null && !unclean.has(p); p = parentOf(p)) unclean.add(p);
  };

  const take = (folder: string, result: ListResult, queue: string[]): void => {
    if (folder === '/') seen.root = result.folder;
    const prefix = folder === '/' ? '/' : `${folder}/`;
    for (const problem of result.problems) {
      const name = NAMED_KINDS.has(problem.kind) ? childName(problem.href, backend.kind) : null;
      const path = name === null ? null : prefix + name;
      if (path !== null) blindPaths.push(path);
      problems.push({ folder, path, kind: problem.kind, href: problem.href, message: problem.message });
      markUnclean(folder);
    }
    for (const entry of result.entries) {
      // The backends guarantee this; a listing that breaks it must not place anything elsewhere (M1).
      if (entry.path !== prefix + entry.name || !plainName(entry.name)) {
        problems.push({ folder, path: null, kind: 'OUTSIDE_FOLDER', href: entry.path, message: `the listing of ${folder} returned ${JSON.stringify(entry.path)} as a child` });
        markUnclean(folder);
        continue;
      }
      tree.set(entry.path, entry);
      if (entry.kind !== 'folder') continue;
      if (skipping && entry.etag !== null && previousEtags?.get(entry.path) === entry.etag) {
        for (const below of previousSubtree!(entry.path)) {
          if (below.path.startsWith(`${entry.path}/`)) tree.set(below.path, below);
        }
        skippedFolders++;
      } else {
        queue.push(entry.path);
      }
    }
  };

  const listOne = async (folder: string, queue: string[]): Promise<void> => {
    propfinds++;
    let result: ListResult;
    try {
      result = await backend.list(folder, { signal: stop.signal });
    } catch (error) {
      if (stop.signal.aborted && options.signal?.aborted === true) {
        throw new NetfsError('CANCELLED', 'remote discovery cancelled', { cause: error });
      }
      if (folder !== '/' && isPerFolderFailure(error)) {
        const e = error as NetfsError;
        blindFolders.push(folder);
        failures.push({ path: folder, code: e.code, status: e.status ?? null, message: e.message });
        markUnclean(folder);
        return;
      }
      throw wholeFailure(folder, error);
    }
    take(folder, result, queue);
  };

  try {
    await runQueue(['/'], concurrency, listOne, stop);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const rootEntry = seen.root;
  if (rootEntry === null) throw new NetfsError('PROTOCOL', 'remote discovery: the root was not listed');

  const folderEtags = new Map<string, string>();
  if (rootEntry.etag !== null && !unclean.has('/')) folderEtags.set('/', rootEntry.etag);
  for (const entry of tree.values()) {
    if (entry.kind === 'folder' && entry.etag !== null && !unclean.has(entry.path)) {
      folderEtags.set(entry.path, entry.etag);
    }
  }
  return {
    tree,
    root: rootEntry,
    blind: { remoteFolders: blindFolders, remotePaths: blindPaths },
    problems,
    failures,
    folderEtags,
    propfinds,
    skippedFolders,
    skipping,
  };
}

/** Whether the server's folder ETags change with deep changes; a probe that fails means "no" (walk). */
async function propagates(backend: RemoteBackend, options: DiscoverRemoteOptions): Promise<boolean> {
  if (options.capabilities !== undefined) return options.capabilities.folderEtagsPropagate;
  try {
    const caps = await backend.capabilities(options.signal === undefined ? {} : { signal: options.signal });
    return caps.folderEtagsPropagate;
  } catch (error) {
    if (isNetfsError(error) && error.code === 'CANCELLED') throw error;
    return false; // The root listing that follows reports what is wrong with the server.
  }
}

function wholeFailure(folder: string, error: unknown): unknown {
  if (!isNetfsError(error)) return error;
  const where = folder === '/' ? 'the root folder' : folder;
  return new NetfsError(error.code, `remote discovery failed listing ${where}; nothing is changed on either side until a listing succeeds: ${error.message}`, {
    cause: error,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  });
}

/**
 * The child name a dropped entry's href stands for. A local-folder remote reports the name
 * itself; a WebDAV one the href, which (for the kinds asked about) resolved to a direct child:
 * its last path segment, decoded once.
 */
export function childName(href: string, kind: RemoteBackend['kind']): string | null {
  let name: string | null = href;
  if (kind === 'webdav') {
    let url: URL;
    try {
      url = new URL(href.trim(), 'http://netfs.invalid/');
    } catch {
      return null;
    }
    const decoded = decodePathname(url.pathname);
    name = 'problem' in decoded ? null : (decoded.segments[decoded.segments.length - 1] ?? null);
  }
  return name !== null && nameProblem(name) === null ? name : null;
}

/** The cheap part of nameProblem (the backends check names fully): one segment, not a dot segment. */
function plainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/');
}

function parentOf(path: string): string | null {
  if (path === '/') return null;
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

/**
 * The entries of one folder (or a subtree) with their states, from the journal, the local
 * folder and the cache — what `ls` and the app's file browser show. Works offline and beside a
 * running engine (it only reads).
 *
 *   journal rows under PATH ──┐
 *   local files under PATH ───┼──> EntryInfo { state, placement, content, flags, ... }
 *   cache extents per file ───┘       flags: error (failure row) · conflicted (conflict row)
 *                                            pending (local differs from its base, or local only)
 */
import { lstat, readdir } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { EntryInfo } from '../api/entries.js';
import { entryState, type Content, type EntryFlag } from '../api/states.js';
import { readCacheObjects } from '../cache/index-reader.js';
import { isClientPath } from './ignore.js';
import type { SyncSession } from './session.js';
import type { Journal } from './journal.js';
import { localPath } from './local-path.js';
import type { BaseEntry } from './model.js';
import { isAtOrUnder, nameOf, parentOf } from './tree-paths.js';

/** What the cache holds of one file. */
export interface CachedContent {
  bytes: number;
  ranges: [number, number][];
}

export interface ListOptions {
  recursive: boolean;
  /** The cache's answer for a path (null: nothing cached). */
  cached?: (path: string, size: number | null) => CachedContent | null;
  /** The ignore rules: ignored local files are not shown as waiting to be uploaded. */
  isIgnored?: (path: string, kind: 'file' | 'folder') => boolean;
}

function contentOf(kind: 'file' | 'folder', size: number | null, cached: CachedContent | null): Content {
  if (kind === 'folder' || cached === null || cached.bytes === 0) return 'none';
  if (size !== null && cached.bytes >= size) return 'cached';
  return 'partial';
}

async function localChanged(root: string, row: BaseEntry): Promise<boolean> {
  if (row.kind === 'folder') return false;
  const info = await lstat(localPath(root, row.path)).catch(() => null);
  if (info === null) return true;
  return info.size !== row.localSize || info.mtimeMs !== row.localMtimeMs;
}

/** Lists `folder` (its children, or its whole subtree with `recursive`), sorted by path. */
export async function listEntries(journal: Journal, root: string, folder: string, options: ListOptions): Promise<EntryInfo[]> {
  const base = journal.base();
  if (folder !== '/' && !base.has(folder)) {
    const local = await lstat(localPath(root, folder)).catch(() => null);
    if (local === null) throw new NetfsError('NOT_FOUND', `${folder}: not in the journal and not in the sync folder (run a sync first?)`);
  }
  const placementOf = journal.placements();
  const failures = new Map(journal.failures().map((f) => [f.path, f]));
  const conflicted = new Set<string>();
  for (const c of journal.conflicts()) {
    conflicted.add(c.path);
    conflicted.add(c.copyPath);
  }
  const pending = journal.pending();
  const wanted = (path: string): boolean => path !== folder && (options.recursive ? isAtOrUnder(path, folder) : parentOf(path) === folder);
  const out: EntryInfo[] = [];
  for (const row of base.values()) {
    if (!wanted(row.path)) continue;
    const placement = row.placement ?? placementOf(row.path);
    const cached = row.kind === 'file' ? (options.cached?.(row.path, row.remoteSize) ?? null) : null;
    const content = contentOf(row.kind, row.remoteSize, cached);
    const flags: EntryFlag[] = [];
    const failure = failures.get(row.path);
    if (failure !== undefined) flags.push('error');
    if (conflicted.has(row.path)) flags.push('conflicted');
    if (pending.has(row.path) || (placement === 'synced' && (row.placement ?? 'synced') === 'synced' && (await localChanged(root, row)))) flags.push('pending');
    out.push({
      path: row.path,
      name: nameOf(row.path),
      kind: row.kind,
      state: entryState({ placement, content, flags }),
      placement,
      content,
      flags,
      size: row.remoteSize,
      mtimeMs: row.remoteMtimeMs,
      baseEtag: row.etag,
      cachedBytes: cached?.bytes ?? 0,
      cachedRanges: cached?.ranges ?? [],
      lastError: failure === undefined ? null : { code: failure.code, message: failure.message, attempts: failure.attempts },
      nextRetryMs: failure?.nextRetryMs ?? null,
    });
  }
  // Local entries the journal does not know yet: new here, waiting for the next pass.
  for (const extra of await localOnly(root, folder, options.recursive, base, options.isIgnored ?? (() => false))) {
    const failure = failures.get(extra.path);
    const flags: EntryFlag[] = failure === undefined ? ['pending'] : ['error', 'pending'];
    const placement = placementOf(extra.path);
    out.push({
      path: extra.path,
      name: nameOf(extra.path),
      kind: extra.kind,
      state: entryState({ placement, content: 'none', flags }),
      placement,
      content: 'none',
      flags,
      size: extra.size,
      mtimeMs: extra.mtimeMs,
      baseEtag: null,
      cachedBytes: 0,
      cachedRanges: [],
      lastError: failure === undefined ? null : { code: failure.code, message: failure.message, attempts: failure.attempts },
      nextRetryMs: failure?.nextRetryMs ?? null,
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

interface LocalExtra {
  path: string;
  kind: 'file' | 'folder';
  size: number | null;
  mtimeMs: number | null;
}

async function localOnly(
  root: string,
  folder: string,
  recursive: boolean,
  base: ReadonlyMap<string, BaseEntry>,
  isIgnored: (path: string, kind: 'file' | 'folder') => boolean,
): Promise<LocalExtra[]> {
  const out: LocalExtra[] = [];
  const queue = [folder];
  while (queue.length > 0) {
    const dir = queue.shift() ?? '/';
    const names = await readdir(localPath(root, dir)).catch(() => [] as string[]);
    for (const name of names) {
      const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
      if (isClientPath(path) || name.startsWith('.netfs-partial-')) continue;
      const info = await lstat(localPath(root, path)).catch(() => null);
      if (info === null || (!info.isFile() && !info.isDirectory())) continue;
      const kind = info.isDirectory() ? 'folder' : 'file';
      if (isIgnored(path, kind)) continue;
      if (!base.has(path)) out.push({ path, kind, size: kind === 'file' ? info.size : null, mtimeMs: info.mtimeMs });
      if (recursive && kind === 'folder') queue.push(path);
    }
  }
  return out;
}

/** What the cache holds of each file, read from its index beside whatever runs. */
export function cachedLookup(s: SyncSession): (path: string) => { bytes: number; ranges: [number, number][] } | null {
  const byKey = new Map(readCacheObjects(s.state.cacheDir, s.state.account.id).map((o) => [o.key, o]));
  return (path) => {
    const o = byKey.get(path);
    return o === undefined || o.staging ? null : { bytes: o.storedBytes, ranges: o.extents };
  };
}

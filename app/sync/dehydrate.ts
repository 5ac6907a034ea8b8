/**
 * "Free up space" (`unpin` of synced files, DESIGN §1): a synced file whose placement became
 * online-only leaves the sync folder, its bytes moved into the cache first, so it still opens
 * offline until culled. Only when both sides provably hold the same version:
 *
 *   base row placement synced, placementOf(path) online-only
 *     local unchanged since the base (size + mtime)?       no -> left alone: the edit is uploaded first
 *     server unchanged since the base (this pass's listing)? no -> left alone: the pass syncs it first
 *     engine.read(localCopy, cache, fillCacheFromLocal)     bytes -> cache (through the engine)
 *     the local file still the same? -> unlink; journal row online-only
 *
 * Nothing on the server is ever deleted here.
 */
import { lstat, unlink } from 'node:fs/promises';
import type { RemoteEntry } from '../api/remote.js';
import type { CacheStore } from '../cache/store.js';
import type { NetfsEngine } from '../netfs/engine.js';
import { auxOf } from './download-cached.js';
import { checkNoSymlinkParents, localPath } from './local-path.js';
import type { BaseEntry, BaseTree, PlacementOf, RemoteTree } from './model.js';
import { remoteUnchanged } from './plan.js';

export interface DehydrateOptions {
  root: string;
  engine: NetfsEngine;
  store: CacheStore;
  base: BaseTree;
  remote: RemoteTree;
  placementOf: PlacementOf;
  record: (entries: readonly RemoteEntry[]) => void;
  log: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
  signal?: AbortSignal;
}

export interface DehydrateResult {
  freed: string[];
  /** Left for now (changed on a side, or the cache refused the bytes), with why. */
  kept: { path: string; why: string }[];
}

async function unchangedLocally(file: string, row: BaseEntry): Promise<boolean> {
  const info = await lstat(file).catch(() => null);
  return info !== null && info.isFile() && info.size === row.localSize && info.mtimeMs === row.localMtimeMs;
}

export async function dehydrate(o: DehydrateOptions): Promise<DehydrateResult> {
  const result: DehydrateResult = { freed: [], kept: [] };
  for (const row of o.base.values()) {
    if (row.kind !== 'file' || (row.placement ?? 'synced') !== 'synced' || o.placementOf(row.path) !== 'online-only') continue;
    const remote = o.remote.get(row.path);
    const file = localPath(o.root, row.path);
    if (remote === undefined || remote.size === null || !remoteUnchanged(remote, row)) {
      result.kept.push({ path: row.path, why: 'the server has another version: synced first' });
      continue;
    }
    if (!(await unchangedLocally(file, row))) {
      result.kept.push({ path: row.path, why: 'changed locally: uploaded first' });
      continue;
    }
    await checkNoSymlinkParents(o.root, row.path);
    const obj = await o.store.openObject(row.path, auxOf(remote));
    try {
      await o.engine.read(row.path, {
        offset: 0,
        length: remote.size,
        size: remote.size,
        consumer: { deliver: () => undefined },
        cache: obj,
        localCopy: file,
        fillCacheFromLocal: true,
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
    } catch (e) {
      result.kept.push({ path: row.path, why: `the cache could not take it: ${(e as Error).message}` });
      continue;
    } finally {
      await obj.close().catch(() => undefined);
    }
    if (!(await unchangedLocally(file, row))) {
      result.kept.push({ path: row.path, why: 'changed locally meanwhile' });
      continue;
    }
    await unlink(file);
    o.record([remote]);
    result.freed.push(row.path);
    o.log('info', 'freed up space: now online-only, bytes kept in the cache', { path: row.path, bytes: remote.size });
  }
  return result;
}

/**
 * Opening an online-only file (DESIGN §1): it becomes synced and its bytes come into the sync
 * folder — from the cache when the cached copy is whole and current, so it works offline;
 * otherwise only the missing ranges come from the server.
 *
 *   journal row (online-only, server version at the last sync)
 *   placement := synced for the file
 *   beginStaging(cache object of that version) -> engine.stage (fetches only what the cache lacks:
 *   nothing when it is whole) -> placeStaged (rename into the sync folder, server mtime)
 *   journal row := synced, with the local file's size, mtime, inode
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import { beginStaging, placeStaged } from '../cache/staging.js';
import { auxOf } from './download-cached.js';
import { checkNoSymlinkParents, localPath } from './local-path.js';
import { baseOf, localNow } from './local-state.js';
import type { SyncSession } from './session.js';
import { nameOf } from './tree-paths.js';

export interface HydrateResult {
  localPath: string;
  /** Bytes fetched from the server (0 when the cache held it all). */
  fetched: number;
  already: boolean;
}

export async function hydrateFile(session: SyncSession, path: string, signal?: AbortSignal): Promise<HydrateResult> {
  const row = session.journal.entry(path);
  if (row === undefined) throw new NetfsError('NOT_FOUND', `${path} is not known yet: run a sync first`);
  if (row.kind !== 'file') throw new NetfsError('INVALID_ARGUMENT', `${path} is a folder; pin it to keep its files on this device`);
  if (row.remoteSize === null) throw new NetfsError('PROTOCOL', `${path}: the server never said how big it is`);
  const store = session.cache;
  if (store === null) throw new NetfsError('CONFLICT', `${path}: the engine of this state folder is running elsewhere; it hydrates the file`);
  session.journal.setPlacement(path, 'synced');
  const dest = localPath(session.root, path);
  const now = await localNow(dest, path);
  if (now !== null && now !== 'other' && now.kind === 'file' && (row.placement ?? 'synced') === 'synced') return { localPath: dest, fetched: 0, already: true };
  if (now !== null) throw new NetfsError('CONFLICT', `${path}: something is already in the sync folder at that name; the next sync pass sorts it out`);
  const remote: RemoteEntry = {
    path,
    name: nameOf(path),
    kind: 'file',
    size: row.remoteSize,
    etag: row.etag,
    etagStrength: row.etag === null ? 'none' : row.etag.startsWith('W/') ? 'weak' : 'strong',
    mtimeMs: row.remoteMtimeMs,
    contentType: null,
  };
  await checkNoSymlinkParents(session.root, path);
  await mkdir(dirname(dest), { recursive: true });
  const obj = await beginStaging(store, path, auxOf(remote));
  let fetched = 0;
  try {
    const outcome = await session.engine.stage(path, {
      size: row.remoteSize,
      expect: { etag: row.etag, size: row.remoteSize, mtimeMs: row.remoteMtimeMs },
      cache: obj,
      ...(signal === undefined ? {} : { signal }),
    });
    fetched = outcome.fetched;
    await placeStaged(obj, dest, { mtimeMs: row.remoteMtimeMs ?? Date.now() });
  } finally {
    await obj.close().catch(() => undefined);
  }
  const placed = await localNow(dest, path);
  if (placed === null || placed === 'other') throw new NetfsError('IO', `${path}: the hydrated file vanished`);
  session.journal.recordSynced([{ ...baseOf(path, placed, remote), placement: 'synced' }]);
  return { localPath: dest, fetched, already: false };
}

/**
 * Reading the server's version of one file (or a range) through the engine, from the best
 * source that holds it:
 *
 *   journal row unchanged locally (size + mtime = base) --> engine.read(localCopy)  (no network)
 *   else the cache, else the server (If-Match the base ETag)
 *
 *   offline (UNREACHABLE) and the range not wholly available locally -> nothing delivered,
 *   UNREACHABLE (the CLI exits 3): the server is checked before the first byte goes out.
 */
import { lstat } from 'node:fs/promises';
import { NetfsError } from '../api/errors.js';
import type { ReadConsumer } from '../netfs/read-request.js';
import type { CacheObjectIo } from '../netfs/cache-api.js';
import { auxOf } from './download-cached.js';
import { localPath } from './local-path.js';
import type { SyncSession } from './session.js';

export interface ReadFileOptions {
  offset: number;
  /** Bytes wanted (clipped at end of file); null = to the end. */
  length: number | null;
  consumer: ReadConsumer;
  /** The file's cache object, when a cache is attached. */
  cache?: CacheObjectIo;
  signal?: AbortSignal;
}

export interface ReadFileResult {
  bytes: number;
  source: 'local' | 'cache-or-server';
}

export async function readFile(session: SyncSession, path: string, options: ReadFileOptions): Promise<ReadFileResult> {
  let row = session.journal.entry(path);
  if (row === undefined) {
    const remote = await session.backend.stat(path);
    if (remote.kind !== 'file') throw new NetfsError('INVALID_ARGUMENT', `${path} is a folder, not a file`);
    row = { path, kind: 'file', etag: remote.etag, remoteSize: remote.size, remoteMtimeMs: remote.mtimeMs, localSize: 0, localMtimeMs: 0, localIno: 0, placement: 'online-only' };
  }
  if (row.kind !== 'file') throw new NetfsError('INVALID_ARGUMENT', `${path} is a folder, not a file`);
  if (row.remoteSize === null) throw new NetfsError('PROTOCOL', `${path}: the server never said how big it is`);
  const size = row.remoteSize;
  const offset = Math.min(options.offset, size);
  const length = Math.min(options.length ?? size - offset, size - offset);
  let localCopy: string | undefined;
  if ((row.placement ?? 'synced') === 'synced') {
    const file = localPath(session.root, path);
    const info = await lstat(file).catch(() => null);
    if (info !== null && info.isFile() && info.size === row.localSize && info.mtimeMs === row.localMtimeMs) localCopy = file;
  }
  const store = session.cache;
  const obj = options.cache === undefined && store !== null && localCopy === undefined ? await store.openObject(path, auxOf({ etag: row.etag, size, mtimeMs: row.remoteMtimeMs })).catch(() => null) : null;
  const cache = options.cache ?? obj ?? undefined;
  try {
    if (localCopy === undefined && length > 0) {
      const covered = cache === undefined ? false : await coveredByCache(cache, offset, Math.min(size, Math.ceil((offset + length) / cache.granule) * cache.granule));
      if (!covered) await session.backend.stat(path); // UNREACHABLE here: nothing written yet
    }
    return await readThrough(session, path, { offset, length, size, etag: row.etag, mtimeMs: row.remoteMtimeMs, localCopy, cache, consumer: options.consumer, signal: options.signal });
  } finally {
    await obj?.close().catch(() => undefined);
  }
}

async function readThrough(
  session: SyncSession,
  path: string,
  o: { offset: number; length: number; size: number; etag: string | null; mtimeMs: number | null; localCopy: string | undefined; cache: CacheObjectIo | undefined; consumer: ReadConsumer; signal: AbortSignal | undefined },
): Promise<ReadFileResult> {
  const { offset, length, size, localCopy } = o;
  const outcome = await session.engine.read(path, {
    offset,
    length,
    size,
    expect: { etag: o.etag, size, mtimeMs: o.mtimeMs },
    consumer: o.consumer,
    ...(localCopy === undefined ? {} : { localCopy }),
    ...(o.cache === undefined ? {} : { cache: o.cache }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  if (outcome.shortAt !== null) throw new NetfsError('CHANGED_ON_SERVER', `${path}: the server's file ends at ${outcome.shortAt} bytes, not ${size}: it changed; sync first`);
  return { bytes: outcome.transferred, source: localCopy === undefined ? 'cache-or-server' : 'local' };
}

/** The cache holds every byte of [start, end) (asked in whole granules, as the engine reads it). */
async function coveredByCache(cache: CacheObjectIo, start: number, end: number): Promise<boolean> {
  let at = Math.floor(start / cache.granule) * cache.granule;
  while (at < end) {
    const extents = await cache.queryOccupancy(at, end);
    const first = extents[0];
    if (first === undefined || first.start > at) return false;
    at = first.end;
  }
  return true;
}

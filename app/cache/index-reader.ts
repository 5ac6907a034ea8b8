/**
 * The cache as another process sees it: the objects of one volume with their extents, read
 * from the index without opening the store (the store belongs to the engine process; opening it
 * sweeps and moves files). `ls` and `cache ls` use it beside a running engine, or with none.
 *
 *   <cache>/index.sqlite --read-only--> objectInfos(volume) --> CacheObjectInfo[]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IndexDb } from './index-db.js';
import { objectInfos } from './inspect-build.js';
import type { CacheObjectInfo } from './inspect.js';
import { INDEX_FILE } from './layout.js';

/** Every object of `volume` as the index says now ([] when the cache was never used). */
export function readCacheObjects(dir: string, volume: string, granule = 65536): CacheObjectInfo[] {
  const file = join(dir, INDEX_FILE);
  if (!existsSync(file)) return [];
  const db = new IndexDb(file, { readonly: true });
  try {
    const id = db.findVolume(volume);
    return id === null ? [] : objectInfos(db, id, new Map(), granule);
  } finally {
    db.db.close();
  }
}

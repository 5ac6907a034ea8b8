/**
 * Builders behind the store's inspection methods (inspect.ts has the types): the per-object view
 * from the index plus the live objects, and the check of one object that is not open.
 *
 *   objectInfos   index rows (+ extents) ──┐
 *                 live objects (open/kept) ┴─> CacheObjectInfo[] (live figures win)
 *   verifyClosed  stat: file there, not shorter than the backing size ─> checkGranules (verify.ts)
 */
import { open, stat } from 'node:fs/promises';
import { visibleRanges, type Range } from './extents.js';
import { CONTENT, type IndexDb, type ObjectRow } from './index-db.js';
import type { CacheObjectInfo } from './inspect.js';
import { objectPath } from './layout.js';
import type { CacheObject } from './object.js';
import { checkGranules } from './verify.js';

const CONTENT_NAME = { [CONTENT.NO_DATA]: 'NO_DATA', [CONTENT.ALL]: 'ALL', [CONTENT.MAP]: 'MAP' } as const;

function bytesOf(list: readonly Range[]): number {
  let n = 0;
  for (const [s, e] of list) n += e - s;
  return n;
}

export function objectInfos(db: IndexDb, volumeId: number, live: ReadonlyMap<string, CacheObject>, granule: number): CacheObjectInfo[] {
  const extents = db.allExtents(volumeId);
  return db.allObjects(volumeId).map((row) => {
    const obj = live.get(row.key);
    if (obj !== undefined) {
      const visible = obj.visibleRanges;
      return {
        key: row.key,
        objectSize: obj.objectSize,
        content: obj.content,
        extents: visible.map(([s, e]): [number, number] => [s, e]),
        storedBytes: bytesOf(visible),
        allocatedBytes: obj.allocatedBytes,
        atime: row.atime,
        inUse: obj.users > 0 && !obj.kept,
        kept: obj.kept,
        staging: obj.staging,
        dirty: obj.dirty,
      };
    }
    const visible = row.dirty === 1 && row.staging !== 1 ? [] : visibleRanges(extents.get(row.id) ?? [], granule, row.object_size);
    return {
      key: row.key,
      objectSize: row.object_size,
      content: CONTENT_NAME[row.content],
      extents: visible.map(([s, e]): [number, number] => [s, e]),
      storedBytes: bytesOf(visible),
      allocatedBytes: row.allocated,
      atime: row.atime,
      inUse: false,
      kept: false,
      staging: row.staging === 1,
      dirty: row.dirty === 1,
    };
  });
}

/** The first problem of an object that is not open, or null (see verify.ts). */
export async function verifyClosed(dir: string, db: IndexDb, row: ObjectRow, granule: number, checked: { n: number }): Promise<string | null> {
  if (row.dirty === 1 && row.staging !== 1) return row.has_file === 1 || row.allocated > 0 ? 'dirty (a crash leftover)' : null;
  const visible = visibleRanges(db.extents(row.id), granule, row.object_size);
  if (row.has_file === 0) return visible.length > 0 || row.backing_size > 0 ? 'no file but content on record' : null;
  const path = objectPath(dir, row.name);
  const st = await stat(path).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  });
  if (st === null || !st.isFile()) return 'file missing';
  if (st.size < row.backing_size) return `file short (${st.size} of ${row.backing_size} bytes)`;
  if (visible.length === 0) return null;
  const fh = await open(path, 'r');
  try {
    const read = async (pos: number, into: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < into.length) {
        const { bytesRead } = await fh.read(into, done, into.length - done, pos + done);
        if (bytesRead === 0) throw new Error(`${path} ends at ${pos + done}`);
        done += bytesRead;
      }
    };
    return await checkGranules({ read }, visible, db.crcs(row.id), granule, row.object_size, checked);
  } finally {
    await fh.close();
  }
}

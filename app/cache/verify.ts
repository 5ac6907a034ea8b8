/**
 * verify(): every servable granule re-read and CRC-checked, and the index checked against the
 * files (issue 4 item 8). Bad objects are invalidated by the caller (store.ts).
 *
 *   for each visible granule [gs, ge) of the object (whole granules of its committed ranges)
 *     no CRC on record ........................ 'no crc for granule N'
 *     read [gs, ge) from the backing file ..... short -> 'file short'
 *     crc32 differs ........................... 'crc mismatch in granule N'
 *
 * An I/O error of the backing store is thrown (the cache withdraws), not reported. Reads go
 * through `read` (the open object's descriptor, or a file opened for the check), at
 * most one granule at a time.
 */
import { crc32 } from 'node:zlib';
import { granuleRange, granulesOverlapping, type Range } from './extents.js';
import { backingFailure } from './health.js';

export interface GranuleSource {
  /** Fills `into` from `pos`; throws when the file ends before. */
  read(pos: number, into: Uint8Array): Promise<void>;
}

/** The first problem of an object's visible granules, or null; `checked` counts granules read. */
export async function checkGranules(
  src: GranuleSource,
  visible: readonly Range[],
  crcs: ReadonlyMap<number, number>,
  granule: number,
  size: number,
  checked: { n: number },
): Promise<string | null> {
  const buf = new Uint8Array(granule);
  for (const [s, e] of visible) {
    for (const i of granulesOverlapping(s, e, granule, size)) {
      const [gs, ge] = granuleRange(i, granule, size);
      const want = crcs.get(i);
      if (want === undefined) return `no crc for granule ${i}`;
      const view = buf.subarray(0, ge - gs);
      try {
        await src.read(gs, view);
      } catch (err) {
        if (backingFailure(err) !== null) throw err; // EIO: the cache withdraws (the caller)
        return `cannot read granule ${i}: ${err instanceof Error ? err.message : String(err)}`;
      }
      checked.n++;
      if (crc32(view) !== want) return `crc mismatch in granule ${i} [${gs}, ${ge})`;
    }
  }
  return null;
}

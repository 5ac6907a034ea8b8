/**
 * Pure content-tracking arithmetic of a cache object: committed byte ranges, the granules they
 * make readable, and the occupancy answer (digest §5.3, §5.5). No I/O here.
 *
 *   object  0         G         2G        3G     size (EOF)
 *           |---------|---------|---------|-------|
 *   ranges  [#########|####]    [#########|#######]      committed (collected) bytes
 *   visible [#########]         [#########|#######]      whole granules only; the last ends at EOF
 *   occupancy(s, e): at most two visible extents within [s, e), trimmed inward to whole blocks
 *                    (an extent that ends at EOF keeps its partial last block)
 */
import type { OccupancyExtent } from '../netfs/cache-api.js';

/** A half-open byte range [start, end). */
export type Range = readonly [number, number];

/** Adds [s, e) to a sorted list of disjoint ranges, merging touching neighbours; returns a new list. */
export function addRange(list: readonly Range[], s: number, e: number): Range[] {
  if (e <= s) return [...list];
  const out: Range[] = [];
  let a = s;
  let b = e;
  let placed = false;
  for (const [x, y] of list) {
    if (y < a) out.push([x, y]);
    else if (x > b) {
      if (!placed) out.push([a, b]);
      placed = true;
      out.push([x, y]);
    } else {
      a = Math.min(a, x);
      b = Math.max(b, y);
    }
  }
  if (!placed) out.push([a, b]);
  return out;
}

/** Removes [s, e) from a sorted list of disjoint ranges; returns a new list. */
export function removeRange(list: readonly Range[], s: number, e: number): Range[] {
  if (e <= s) return [...list];
  const out: Range[] = [];
  for (const [x, y] of list) {
    if (y <= s || x >= e) out.push([x, y]);
    else {
      if (x < s) out.push([x, s]);
      if (y > e) out.push([e, y]);
    }
  }
  return out;
}

/** True when [s, e) lies wholly inside one range of the list. */
export function coversRange(list: readonly Range[], s: number, e: number): boolean {
  if (e <= s) return true;
  return list.some(([x, y]) => x <= s && e <= y);
}

export function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

export function roundDown(n: number, unit: number): number {
  return Math.floor(n / unit) * unit;
}

/** The granule [start, end) with index `i` of an object of `size` bytes (the last ends at EOF). */
export function granuleRange(i: number, granule: number, size: number): Range {
  return [i * granule, Math.min((i + 1) * granule, size)];
}

/** Indexes of the granules that overlap [s, e). */
export function granulesOverlapping(s: number, e: number, granule: number, size: number): number[] {
  const out: number[] = [];
  const end = Math.min(e, size);
  for (let i = Math.floor(s / granule); i * granule < end; i++) out.push(i);
  return out;
}

/** The readable part of the committed ranges: whole granules only, the last one ending at EOF. */
export function visibleRanges(committed: readonly Range[], granule: number, size: number): Range[] {
  const out: Range[] = [];
  for (const [x, y] of committed) {
    const s = roundUp(x, granule);
    const e = y >= size ? size : roundDown(y, granule);
    if (e > s) out.push([s, e]);
  }
  return out;
}

/**
 * At most two DATA extents of `visible` within [start, end), trimmed inward to whole blocks
 * except where an extent ends at EOF (`size`).
 */
export function occupancy(visible: readonly Range[], start: number, end: number, blockSize: number, size: number): OccupancyExtent[] {
  const out: OccupancyExtent[] = [];
  for (const [x, y] of visible) {
    if (out.length === 2) break;
    const s = roundUp(Math.max(x, start), blockSize);
    const clipped = Math.min(y, end);
    const e = clipped >= size ? size : roundDown(clipped, blockSize);
    if (e > s) out.push({ start: s, end: e, type: 'DATA' });
  }
  return out;
}

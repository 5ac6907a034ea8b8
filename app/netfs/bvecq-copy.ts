/**
 * Copying bytes into and out of a chain's file range: for tests and debugging ONLY. The
 * engine never copies payload bytes; it hands views (bvecqSlice, bvecqRange) to the I/O.
 *
 *   test bytes --bvecqCopyIn(from, fpos, src)--> [slot views of the range] --bvecqCopyOut(from, a, b)--> fresh Uint8Array
 *
 * Both refuse a range that is not wholly loaded (a gap, or past the end).
 */
import { NetfsError } from '../api/errors.js';
import type { BvecqPos } from './bvecq.js';
import { bvecqRange } from './bvecq.js';

/** Writes `src` into the loaded bytes at file positions [fpos, fpos + src.length). */
export function bvecqCopyIn(from: BvecqPos, fpos: number, src: Uint8Array): void {
  let at = fpos;
  for (const { fpos: p, view } of bvecqRange(from, fpos, fpos + src.length)) {
    if (p !== at) break;
    view.set(src.subarray(at - fpos, at - fpos + view.length));
    at += view.length;
  }
  if (at !== fpos + src.length) {
    throw new NetfsError('INVALID_ARGUMENT', `bvecq copy: [${fpos}, ${fpos + src.length}) is not loaded from ${at}`);
  }
}

/** A copy of the loaded bytes at file positions [start, end). */
export function bvecqCopyOut(from: BvecqPos, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let at = start;
  for (const { fpos, view } of bvecqRange(from, start, end)) {
    if (fpos !== at) break;
    out.set(view, at - start);
    at += view.length;
  }
  if (at !== end) throw new NetfsError('INVALID_ARGUMENT', `bvecq copy: [${start}, ${end}) is not loaded from ${at}`);
  return out;
}

/** The bytes of `views` one after another, in a fresh array. */
export function concatViews(views: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const v of views) total += v.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const v of views) {
    out.set(v, at);
    at += v.length;
  }
  return out;
}

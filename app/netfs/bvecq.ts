/**
 * bvecq: the buffer chain a request's bytes live in (digest §1.6; the kernel's
 * include/linux/bvecq.h and fs/netfs/bvecq.c, re-created over Uint8Array).
 *
 *   consumers (each its own position, each pinning a segment)          producer
 *   collect          upload          cache write      dispatch        load cursor
 *      |                |                |               |                |
 *      v                v                v               v                v
 *   +-----------+ ref +-----------+ ref +-----------+ ref +-----------+
 *   | fpos 0    |---->| fpos 16M  |---->| fpos 32M  |---->| fpos 48M  |----> null
 *   | s0 .. s15 |     | s0 .. s15 |     | s0 .. s15 |     | s0 s1     |
 *   +-----------+     +-----------+     +-----------+     +-----------+
 *      slot = {buf, off, len}: `len` used bytes of a pool block (or of caller memory) at
 *      file position fpos + start; slots of one segment are contiguous in the file; a gap
 *      (or another disposal) starts a new segment (`discontig` when the file position jumps).
 *
 * Reference counting (as in the kernel): a segment holds one reference on the segment after
 * it, and every attached position (and every bvecqGet) holds one on its segment. So whatever
 * anything points into stays alive together with everything after it, and a segment is
 * disposed of - its pool blocks freed, or nothing for caller memory - as soon as the last
 * position has moved past it. The load cursor pins the tail, so the chain never becomes
 * detached from its producer end while consumers catch up.
 *
 *   const chain = new Bvecq({ pool, fpos: 0 });
 *   const dispatch = chain.pos(), collect = chain.pos();     // consumers first, then load
 *   chain.load(await pool.allocAsync(signal));               // a slot; a segment when full
 *   const s = bvecqSlice(dispatch, rsize, maxSegs);          // views for one subrequest
 *   ... I/O into/out of s.views (s.start pins them) ...; s.release();
 *   bvecqPosAdvance(collect, n); ... collect.detach(); dispatch.detach(); chain.release();
 *
 * Positions rest at the end of a slot while nothing follows it (the tail slot may still grow:
 * Bvecq.extend); they step over exhausted slots and segments as soon as something does.
 * Nothing here copies payload bytes: views are subarray()s of the slots' memory. Everything
 * runs on one thread, so the kernel's release/acquire barriers have no counterpart.
 */
import { NetfsError } from '../api/errors.js';
import type { BufferPool } from './buffer-pool.js';

/** How a segment's memory is disposed of when its last reference goes. */
export type BvecqDisposal =
  /** Each slot's `buf` is a block of the chain's pool and is freed back to it. */
  | 'pool'
  /** Caller-owned memory (an unbuffered write's source, a test buffer): nothing is done. */
  | 'none';

/** Default slots per segment. */
export const BVECQ_DEFAULT_MAX_SLOTS = 16;

/** One fragment: `len` bytes of `buf` from `off`, at file position `segment.fpos + start`. */
export interface BvecqSlot {
  readonly buf: Uint8Array;
  readonly off: number;
  /** Used bytes. Only the chain's very last slot grows (Bvecq.extend). */
  len: number;
  /** Offset of the slot's first byte from its segment's `fpos`. */
  readonly start: number;
}

let nextSegmentId = 1;

/**
 * Pool blocks loaded into any chain. A block's view dies with its free() (the pool hands out a
 * new view next time), so entries never need removing.
 */
const loadedBlocks = new WeakSet<Uint8Array>();

/**
 * One segment of a chain. Its fields are read by consumers and written only by this module.
 */
export class BvecqSegment {
  readonly debugId = nextSegmentId++;
  readonly chain: Bvecq;
  readonly maxSlots: number;
  readonly slots: BvecqSlot[] = [];
  /** File position of the first byte. */
  fpos: number;
  /** Bytes in the used parts of all slots. */
  size = 0;
  disposal: BvecqDisposal;
  /** The file position jumps between the previous segment's end and this one's fpos. */
  discontig = false;
  /** References: the link from the previous segment, attached positions, bvecqGet()s. */
  refs = 1;
  /** Disposed of (refs reached zero); nothing may point here any more. */
  dead = false;
  next: BvecqSegment | null = null;
  prev: BvecqSegment | null = null;

  constructor(chain: Bvecq, fpos: number, disposal: BvecqDisposal, maxSlots: number) {
    this.chain = chain;
    this.fpos = fpos;
    this.disposal = disposal;
    this.maxSlots = maxSlots;
  }

  get nrSlots(): number {
    return this.slots.length;
  }

  /** File position just after the last byte. */
  get end(): number {
    return this.fpos + this.size;
  }

  isFull(): boolean {
    return this.slots.length >= this.maxSlots;
  }

  /** The used bytes of one slot, as a view (no copy). */
  view(slot: number): Uint8Array {
    const s = this.slots[slot];
    if (s === undefined) throw invalid(`bvecq: segment ${this.debugId} has no slot ${slot}`);
    return s.buf.subarray(s.off, s.off + s.len);
  }
}

/** A (segment, slot, offset) triple. While attached it holds a reference on its segment. */
export class BvecqPos {
  seg: BvecqSegment | null = null;
  slot = 0;
  offset = 0;
  /** The chain this position was last attached to (kept after detach, to explain errors). */
  chain: Bvecq | null = null;

  get attached(): boolean {
    return this.seg !== null;
  }

  /** The file position this position stands at. */
  get fpos(): number {
    const seg = attachedSeg(this);
    const s = seg.slots[this.slot];
    return s === undefined ? seg.end : seg.fpos + s.start + this.offset;
  }

  /** Another position at the same place, with its own reference. */
  clone(): BvecqPos {
    const pos = new BvecqPos();
    bvecqPosSet(pos, this);
    return pos;
  }

  /** Drops this position's reference; a no-op when not attached. */
  detach(): void {
    bvecqPosDetach(this);
  }
}

/**
 * A subrequest's share of the chain: `len` bytes from file position `fpos`, as `views`
 * (at most the asked number of fragments, contiguous in the file). `start` is an attached
 * position at its first byte: it keeps the memory alive (and is the rewind point for a
 * retry: clone it, advance by what was transferred). release() when the I/O is over.
 */
export class BvecqSlice {
  readonly start: BvecqPos;
  readonly fpos: number;
  readonly len: number;
  readonly views: Uint8Array[];

  constructor(start: BvecqPos, fpos: number, len: number, views: Uint8Array[]) {
    this.start = start;
    this.fpos = fpos;
    this.len = len;
    this.views = views;
  }

  release(): void {
    this.start.detach();
  }
}

/** One piece of a range walk: `view` holds the bytes at file positions [fpos, fpos + view.length). */
export interface BvecqExtent {
  fpos: number;
  view: Uint8Array;
}

export interface BvecqOptions {
  /** File position of the first byte to be loaded; default 0. */
  fpos?: number;
  /** Slots per segment; default 16. */
  maxSlots?: number;
  /** Where the blocks of 'pool' slots go back to. */
  pool?: BufferPool | null;
  /** Disposal of loaded memory unless load() says; default 'pool' with a pool, else 'none'. */
  disposal?: BvecqDisposal;
}

export interface BvecqLoadOptions {
  /** Where the slot's bytes start in the buffer; default 0. */
  offset?: number;
  /** Used bytes; default the rest of the buffer. May be 0 and grow later with extend(). */
  len?: number;
  /** File position of the slot's first byte, at or after the chain's end; default the end. */
  fpos?: number;
  disposal?: BvecqDisposal;
}

/**
 * The chain and its producer end. Consumers take positions with pos() (before loading the
 * bytes they must see) and pass them around; the chain remembers every attached position so
 * that clear() can drop them all.
 */
export class Bvecq {
  readonly pool: BufferPool | null;
  readonly maxSlots: number;
  readonly disposal: BvecqDisposal;
  /** The last segment: where load() appends. */
  tail: BvecqSegment;
  /** File position just after the last loaded byte. */
  end: number;
  /** Segments created so far / alive now (netfs stats `bq`). */
  segmentsAllocated = 1;
  segmentsLive = 1;
  /** 'open' while the producer may load; 'released' after release(); 'cleared' after clear(). */
  state: 'open' | 'released' | 'cleared' = 'open';
  /** @internal Every attached position whose segment belongs to this chain. */
  readonly positions = new Set<BvecqPos>();
  /** The load cursor: pins the tail segment. */
  readonly #load = new BvecqPos();

  constructor(options: BvecqOptions = {}) {
    const fpos = options.fpos ?? 0;
    checkCount('fpos', fpos);
    this.maxSlots = options.maxSlots ?? BVECQ_DEFAULT_MAX_SLOTS;
    if (!Number.isSafeInteger(this.maxSlots) || this.maxSlots < 1) {
      throw invalid(`bvecq: maxSlots must be a positive integer, got ${String(options.maxSlots)}`);
    }
    this.pool = options.pool ?? null;
    this.disposal = options.disposal ?? (this.pool === null ? 'none' : 'pool');
    if (this.disposal === 'pool' && this.pool === null) throw invalid("bvecq: disposal 'pool' needs a pool");
    this.end = fpos;
    this.tail = new BvecqSegment(this, fpos, this.disposal, this.maxSlots);
    // The new segment's one reference goes to the load cursor.
    this.#load.seg = this.tail;
    this.#load.chain = this;
    this.positions.add(this.#load);
  }

  /** Positions attached now (the load cursor included while the chain is open). */
  get attachedPositions(): number {
    return this.positions.size;
  }

  /** Bytes the last slot can still grow by with extend(). */
  get room(): number {
    const s = this.tail.slots[this.tail.slots.length - 1];
    return s === undefined ? 0 : s.buf.byteLength - s.off - s.len;
  }

  /** A new position at the load point: it will see every byte loaded from now on. */
  pos(): BvecqPos {
    if (this.state === 'cleared') throw clearedError();
    const pos = new BvecqPos();
    const tail = this.tail;
    if (tail.dead) throw invalid('bvecq: the chain has been released and its tail disposed of');
    bvecqPosAttach(pos, tail, tail.slots.length, 0);
    return pos;
  }

  /**
   * Appends `buf` (bytes [offset, offset + len)) as a slot at file position `fpos`, in the
   * tail segment when it is not full, continues it in the file and has the same disposal;
   * else in a new segment. 'pool' memory must be a live block of the chain's pool, and each
   * block goes into one slot only (it is freed once per slot).
   */
  load(buf: Uint8Array, options: BvecqLoadOptions = {}): void {
    this.#assertOpen();
    const offset = options.offset ?? 0;
    const len = options.len ?? buf.byteLength - offset;
    const fpos = options.fpos ?? this.end;
    const disposal = options.disposal ?? this.disposal;
    checkCount('offset', offset);
    checkCount('len', len);
    checkCount('fpos', fpos);
    if (offset + len > buf.byteLength) {
      throw invalid(`bvecq: slot [${offset}, ${offset + len}) does not fit a buffer of ${buf.byteLength} bytes`);
    }
    if (fpos < this.end) throw invalid(`bvecq: load at ${fpos} is before the end of the chain (${this.end})`);
    if (!Number.isSafeInteger(fpos + len)) throw invalid('bvecq: file position out of range');
    if (disposal === 'pool') {
      if (this.pool === null || !this.pool.owns(buf)) {
        throw invalid("bvecq: disposal 'pool' needs a block in use from the chain's pool");
      }
      if (loadedBlocks.has(buf)) throw invalid('bvecq: this pool block is already in a chain (it would be freed twice)');
      loadedBlocks.add(buf);
    }
    let tail = this.tail;
    if (tail.slots.length === 0) {
      // Only the first segment is ever empty: relabel it rather than leave an empty segment.
      tail.fpos = fpos;
      tail.disposal = disposal;
    } else if (tail.isFull() || fpos !== tail.end || disposal !== tail.disposal) {
      tail = this.#appendSegment(fpos, disposal);
    }
    tail.slots.push({ buf, off: offset, len, start: tail.size });
    tail.size += len;
    this.end = fpos + len;
  }

  /** Grows the last slot's used length by `n` bytes (bytes just written into its room). */
  extend(n: number): void {
    this.#assertOpen();
    checkCount('n', n);
    const tail = this.tail;
    const s = tail.slots[tail.slots.length - 1];
    if (s === undefined) throw invalid('bvecq: nothing loaded to extend');
    if (s.off + s.len + n > s.buf.byteLength) {
      throw invalid(`bvecq: extending by ${n} overruns the last slot's buffer (room ${this.room})`);
    }
    s.len += n;
    tail.size += n;
    this.end += n;
  }

  /**
   * The producer is done: drops the load cursor's reference. Consumers keep what they point
   * at; the chain's memory is gone once they have all detached. Idempotent.
   */
  release(): void {
    if (this.state !== 'open') return;
    this.state = 'released';
    bvecqPosDetach(this.#load);
  }

  /**
   * Drops everything: the load cursor and every attached position of this chain (their later
   * use fails with CANCELLED), so all memory goes back unless a bvecqGet() reference is still
   * held. Only when no I/O is still using views of the chain (the views would point into
   * blocks the pool hands out again).
   */
  clear(): void {
    if (this.state === 'cleared') return;
    this.state = 'cleared';
    for (const pos of [...this.positions]) bvecqPosDetach(pos);
  }

  #assertOpen(): void {
    if (this.state === 'cleared') throw clearedError();
    if (this.state !== 'open') throw invalid('bvecq: the chain has been released; nothing more can be loaded');
  }

  #appendSegment(fpos: number, disposal: BvecqDisposal): BvecqSegment {
    const old = this.tail;
    // Born with one reference: the link from `old`.
    const seg = new BvecqSegment(this, fpos, disposal, this.maxSlots);
    seg.discontig = fpos !== old.end;
    seg.prev = old;
    old.next = seg;
    this.tail = seg;
    this.segmentsAllocated++;
    this.segmentsLive++;
    // The load cursor moves on (which may dispose of `old` if nothing else holds it).
    posMove(this.#load, seg);
    this.#load.slot = 0;
    return seg;
  }
}

// ---------------------------------------------------------------------------------------
// References

/** Takes another reference on `seg` (the kernel's bvecq_get; "dup"). */
export function bvecqGet(seg: BvecqSegment): BvecqSegment {
  if (seg.dead) throw invalid(`bvecq: segment ${seg.debugId} has been disposed of`);
  seg.refs++;
  return seg;
}

/**
 * Drops a reference on `seg`; when it was the last, disposes of the segment (its pool blocks
 * go back to the pool) and drops its reference on the next segment, and so on down the chain.
 */
export function bvecqPut(seg: BvecqSegment | null): void {
  if (seg === null) return;
  if (seg.dead || seg.refs <= 0) throw invalid(`bvecq: put of segment ${seg.debugId}, which has no references left`);
  let firstError: unknown = undefined;
  let s: BvecqSegment | null = seg;
  while (s !== null) {
    s.refs--;
    if (s.refs > 0) break;
    const next: BvecqSegment | null = s.next;
    const error = dispose(s);
    if (firstError === undefined) firstError = error;
    s = next;
  }
  if (firstError !== undefined) throw firstError;
}

function dispose(seg: BvecqSegment): unknown {
  seg.dead = true;
  seg.chain.segmentsLive--;
  if (seg.next !== null) seg.next.prev = null;
  seg.next = null;
  seg.prev = null;
  let firstError: unknown = undefined;
  const pool = seg.chain.pool;
  if (seg.disposal === 'pool' && pool !== null) {
    for (const s of seg.slots) {
      try {
        pool.free(s.buf);
      } catch (error) {
        if (firstError === undefined) firstError = error;
      }
    }
  }
  seg.slots.length = 0;
  return firstError;
}

// ---------------------------------------------------------------------------------------
// Positions

/**
 * Points `pos` at (seg, slot, offset), taking a reference on `seg` and dropping the one it
 * held. `slot` may be `seg.nrSlots` (offset 0): "after the last slot", which is recorded as
 * the end of the last slot so that bytes the tail slot gains later are not skipped.
 */
export function bvecqPosAttach(pos: BvecqPos, seg: BvecqSegment, slot = 0, offset = 0): void {
  if (seg.dead) throw invalid(`bvecq: segment ${seg.debugId} has been disposed of`);
  const nr = seg.slots.length;
  if (!Number.isSafeInteger(slot) || slot < 0 || slot > nr) throw invalid(`bvecq: slot ${slot} is not in 0..${nr}`);
  const s = seg.slots[slot];
  const max = s === undefined ? 0 : s.len;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > max) {
    throw invalid(`bvecq: offset ${offset} is not in 0..${max} of slot ${slot}`);
  }
  const last = seg.slots[nr - 1];
  if (slot === nr && last !== undefined) {
    slot = nr - 1;
    offset = last.len;
  }
  posMove(pos, seg);
  pos.slot = slot;
  pos.offset = offset;
}

/** Drops the reference `pos` holds and leaves it unattached; a no-op when it is not attached. */
export function bvecqPosDetach(pos: BvecqPos): void {
  const old = pos.seg;
  if (old === null) return;
  pos.seg = null;
  pos.slot = 0;
  pos.offset = 0;
  old.chain.positions.delete(pos);
  bvecqPut(old);
}

/** Sets `pos` to where `at` is, with its own reference. */
export function bvecqPosSet(pos: BvecqPos, at: BvecqPos): void {
  const seg = attachedSeg(at);
  posMove(pos, seg);
  pos.slot = at.slot;
  pos.offset = at.offset;
}

/** Moves `at`'s place and reference to `pos`, leaving `at` unattached. */
export function bvecqPosTransfer(pos: BvecqPos, at: BvecqPos): void {
  bvecqPosSet(pos, at);
  bvecqPosDetach(at);
}

/**
 * Steps `pos` over exhausted slots and segments onto the next byte, when one is loaded;
 * returns whether there is a byte at `pos` now. (A position at the end of a full segment
 * goes to the next segment as soon as there is one.)
 */
export function bvecqPosNudge(pos: BvecqPos): boolean {
  walk(pos, attachedSeg(pos), 0, 0, false, null);
  return hasByte(pos);
}

/**
 * Advances `pos` by up to `n` bytes of the chain (across gaps in the file position), never
 * past the last loaded byte; returns how far it went.
 */
export function bvecqPosAdvance(pos: BvecqPos, n: number): number {
  checkCount('n', n);
  return walk(pos, attachedSeg(pos), n, Infinity, false, null);
}

/**
 * Takes the next slice for a subrequest: up to `maxBytes` bytes from `pos` in at most
 * `maxSegs` fragments, contiguous in the file (it stops at a gap), and advances `pos` past
 * it. The length may come out shorter than asked (fragment limit, gap, end of what is
 * loaded); the subrequest is trimmed to it. The slice pins its memory until release().
 */
export function bvecqSlice(pos: BvecqPos, maxBytes = Infinity, maxSegs = Infinity): BvecqSlice {
  checkLimit('maxBytes', maxBytes);
  checkLimit('maxSegs', maxSegs);
  bvecqPosNudge(pos);
  const start = pos.clone();
  const views: Uint8Array[] = [];
  const len = walk(pos, attachedSeg(pos), maxBytes, maxSegs, true, (s, from, to) => {
    views.push(s.buf.subarray(s.off + from, s.off + to));
  });
  return new BvecqSlice(start, start.fpos, len, views);
}

/** Zeroes up to `n` bytes from `pos` (a ZERO extent, the tail of a short read) and advances past them. */
export function bvecqZero(pos: BvecqPos, n: number): number {
  checkCount('n', n);
  return walk(pos, attachedSeg(pos), n, Infinity, false, (s, from, to) => {
    s.buf.fill(0, s.off + from, s.off + to);
  });
}

/**
 * The loaded bytes in file positions [start, end) as views (no copy), walking from the
 * segment `from` stands in; bytes in gaps are simply not there. `from` must stay attached
 * (and so the memory alive) while the views are in use.
 */
export function bvecqRange(from: BvecqPos, start: number, end: number): Generator<BvecqExtent, void, undefined> {
  checkCount('start', start);
  checkCount('end', end);
  if (end < start) throw invalid(`bvecq: range [${start}, ${end}) is reversed`);
  return rangeFrom(attachedSeg(from), start, end);
}

function* rangeFrom(first: BvecqSegment, start: number, end: number): Generator<BvecqExtent, void, undefined> {
  for (let seg: BvecqSegment | null = first; seg !== null; seg = seg.next) {
    if (seg.fpos >= end) return;
    if (seg.end <= start) continue;
    for (const s of seg.slots) {
      const a = seg.fpos + s.start;
      const b = a + s.len;
      if (a >= end) return;
      if (b <= start || s.len === 0) continue;
      const lo = a > start ? a : start;
      const hi = b < end ? b : end;
      yield { fpos: lo, view: s.buf.subarray(s.off + lo - a, s.off + hi - a) };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Internals

type Visit = (slot: BvecqSlot, from: number, to: number) => void;

/**
 * The one walker behind nudge, advance, slice and zero: from `pos`, covers up to `maxBytes`
 * bytes in at most `maxFrags` fragments (stopping before a discontiguous segment when
 * `stopAtGap`), calls `visit` for each piece, then parks `pos` after what it covered - on the
 * next byte when one is loaded, else at the end of the last slot. Returns the bytes covered.
 */
function walk(
  pos: BvecqPos,
  from: BvecqSegment,
  maxBytes: number,
  maxFrags: number,
  stopAtGap: boolean,
  visit: Visit | null,
): number {
  let seg = from;
  let slot = pos.slot;
  let off = pos.offset;
  let done = 0;
  let frags = 0;
  for (;;) {
    const s = seg.slots[slot];
    if (s !== undefined) {
      const avail = s.len - off;
      if (avail > 0) {
        if (done >= maxBytes || frags >= maxFrags) break;
        const take = avail < maxBytes - done ? avail : maxBytes - done;
        if (visit !== null) visit(s, off, off + take);
        off += take;
        done += take;
        frags++;
        continue;
      }
      if (slot + 1 < seg.slots.length) {
        slot++;
        off = 0;
        continue;
      }
    }
    const next = seg.next;
    if (next === null) break;
    if (stopAtGap && next.discontig && done > 0) break;
    seg = next;
    slot = 0;
    off = 0;
  }
  posMove(pos, seg);
  pos.slot = slot;
  pos.offset = off;
  return done;
}

function hasByte(pos: BvecqPos): boolean {
  const s = pos.seg?.slots[pos.slot];
  return s !== undefined && pos.offset < s.len;
}

/** Re-points `pos` at `seg`: reference on the new segment first, then off the old one. */
function posMove(pos: BvecqPos, seg: BvecqSegment): void {
  const old = pos.seg;
  if (old === seg) return;
  bvecqGet(seg);
  pos.seg = seg;
  if (old === null || old.chain !== seg.chain) {
    old?.chain.positions.delete(pos);
    seg.chain.positions.add(pos);
    pos.chain = seg.chain;
  }
  if (old !== null) bvecqPut(old);
}

function attachedSeg(pos: BvecqPos): BvecqSegment {
  const seg = pos.seg;
  if (seg !== null) return seg;
  if (pos.chain?.state === 'cleared') throw clearedError();
  throw invalid('bvecq: position is not attached');
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(`bvecq: ${name} must be a non-negative integer, got ${String(value)}`);
  }
}

function checkLimit(name: string, value: number): void {
  if (value !== Infinity) checkCount(name, value);
}

function invalid(message: string): NetfsError {
  return new NetfsError('INVALID_ARGUMENT', message);
}

function clearedError(): NetfsError {
  return new NetfsError('CANCELLED', 'bvecq: the chain was cleared');
}

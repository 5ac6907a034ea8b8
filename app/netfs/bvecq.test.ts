import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';
import type { BvecqSegment, BvecqSlice } from './bvecq.js';
import {
  Bvecq,
  BvecqPos,
  bvecqGet,
  bvecqPosAdvance,
  bvecqPosAttach,
  bvecqPosNudge,
  bvecqPosSet,
  bvecqPosTransfer,
  bvecqPut,
  bvecqRange,
  bvecqSlice,
  bvecqZero,
} from './bvecq.js';
import { bvecqCopyIn, bvecqCopyOut, concatViews } from './bvecq-copy.js';

const invalidArgument = expect.objectContaining({ code: 'INVALID_ARGUMENT' });
const cancelledError = expect.objectContaining({ code: 'CANCELLED' });

/** The byte the tests keep at file position `fpos` (period 251, so misplaced bytes show). */
const pattern = (fpos: number): number => (fpos * 131 + 17) % 251;

function patterned(buf: Uint8Array, fpos: number, len = buf.length, offset = 0): Uint8Array {
  for (let i = 0; i < len; i++) buf[offset + i] = pattern(fpos + i);
  return buf;
}

function expected(fpos: number, len: number): number[] {
  return Array.from({ length: len }, (_, i) => pattern(fpos + i));
}

/** A pool of small blocks and a chain on it, with `n` full blocks loaded after `consumers` positions were taken. */
function setup(opts: { blockSize?: number; blocks?: number; maxSlots?: number; load?: number; consumers?: number } = {}) {
  const blockSize = opts.blockSize ?? 4;
  const pool = new BufferPool({ blockSize, capacity: blockSize * (opts.blocks ?? 32), arenaSize: blockSize * 8 });
  const chain = new Bvecq({ pool, maxSlots: opts.maxSlots ?? 2 });
  const positions = Array.from({ length: opts.consumers ?? 1 }, () => chain.pos());
  for (let i = 0; i < (opts.load ?? 0); i++) loadBlock(pool, chain);
  return { pool, chain, positions, pos: positions[0]! };
}

function loadBlock(pool: BufferPool, chain: Bvecq, len = pool.blockSize, fpos = chain.end): Uint8Array {
  const block = pool.alloc();
  if (block === null) throw new Error('test pool exhausted');
  chain.load(patterned(block, fpos, len), { len, fpos });
  return block;
}

describe('bvecq: empty chains and zero-length slices', () => {
  it('an empty chain slices to nothing, advances nowhere and releases cleanly', () => {
    const { pool, chain, pos } = setup();
    expect(chain.end).toBe(0);
    const s = bvecqSlice(pos, 100, 4);
    expect(s.len).toBe(0);
    expect(s.views).toEqual([]);
    expect(s.fpos).toBe(0);
    s.release();
    expect(bvecqPosAdvance(pos, 10)).toBe(0);
    expect(bvecqPosNudge(pos)).toBe(false);
    expect([...bvecqRange(pos, 0, 100)]).toEqual([]);
    pos.detach();
    chain.release();
    expect(chain.segmentsLive).toBe(0);
    expect(pool.inUse).toBe(0);
  });

  it('a zero-byte or zero-fragment slice covers nothing and leaves the position where it was', () => {
    const { chain, pos } = setup({ load: 3 });
    bvecqPosAdvance(pos, 5);
    for (const [bytes, segs] of [
      [0, 4],
      [10, 0],
    ] as const) {
      const s = bvecqSlice(pos, bytes, segs);
      expect(s.len).toBe(0);
      expect(s.views).toEqual([]);
      expect(s.fpos).toBe(5);
      expect(pos.fpos).toBe(5);
      s.release();
    }
    expect(chain.attachedPositions).toBe(2); // the load cursor and `pos`
  });

  it('a zero-length slot is skipped and counts as no fragment', () => {
    const { pool, chain, pos } = setup({ maxSlots: 4 });
    loadBlock(pool, chain, 0);
    loadBlock(pool, chain, 4);
    const s = bvecqSlice(pos, 100, 1);
    expect(s.len).toBe(4);
    expect(s.views.map((v) => [...v])).toEqual([expected(0, 4)]);
  });

  it('refuses negative, fractional and NaN limits', () => {
    const { pos } = setup({ load: 1 });
    expect(() => bvecqSlice(pos, -1)).toThrowError(invalidArgument);
    expect(() => bvecqSlice(pos, 1.5)).toThrowError(invalidArgument);
    expect(() => bvecqSlice(pos, 4, Number.NaN)).toThrowError(invalidArgument);
    expect(() => bvecqPosAdvance(pos, -1)).toThrowError(invalidArgument);
    expect(() => bvecqPosAdvance(pos, Infinity)).toThrowError(invalidArgument);
  });
});

describe('bvecq: slicing', () => {
  it('gives views on the loaded memory itself (no copy)', () => {
    const { pool, chain, pos } = setup();
    const block = loadBlock(pool, chain);
    const [view] = bvecqSlice(pos, 4).views;
    expect(view!.buffer).toBe(block.buffer);
    expect(view!.byteOffset).toBe(block.byteOffset);
    view![0] = 99;
    expect(block[0]).toBe(99);
  });

  it('is bounded by bytes and by fragments, and reports what it covers', () => {
    const { pos } = setup({ maxSlots: 4, load: 3 });
    const a = bvecqSlice(pos, 100, 2);
    expect(a.len).toBe(8);
    expect(a.views).toHaveLength(2);
    const b = bvecqSlice(pos, 3, 10);
    expect(b).toMatchObject({ fpos: 8, len: 3 });
    const c = bvecqSlice(pos, 100, 10);
    expect(c).toMatchObject({ fpos: 11, len: 1 });
    expect(concatViews([...a.views, ...b.views, ...c.views])).toEqual(new Uint8Array(expected(0, 12)));
  });

  it('slicing exactly to a segment boundary leaves the position in the next segment', () => {
    const { pool, chain, pos } = setup({ maxSlots: 2, load: 3 });
    const seg0 = pos.seg!;
    expect(seg0.nrSlots).toBe(2);
    const s = bvecqSlice(pos, 8);
    expect(s.len).toBe(8);
    expect(pos.seg).toBe(seg0.next);
    expect([pos.slot, pos.offset, pos.fpos]).toEqual([0, 0, 8]);
    // The slice still pins segment 0 (its memory is in the subrequest's hands)...
    expect(seg0.dead).toBe(false);
    expect(pool.inUse).toBe(3);
    s.release();
    // ...and once it is released nothing points there: its blocks go back.
    expect(seg0.dead).toBe(true);
    expect(pool.inUse).toBe(1);
    expect(chain.segmentsLive).toBe(1);
  });

  it('a slice spanning a segment boundary is one slice with one view per slot', () => {
    const { pos } = setup({ maxSlots: 2, load: 3 });
    bvecqPosAdvance(pos, 6);
    const s = bvecqSlice(pos, 5);
    expect(s).toMatchObject({ fpos: 6, len: 5 });
    expect(s.views.map((v) => v.length)).toEqual([2, 3]);
    expect([...concatViews(s.views)]).toEqual(expected(6, 5));
  });

  it('stops at a gap in the file position; advance crosses it', () => {
    const { pool, chain, pos } = setup({ maxSlots: 4 });
    loadBlock(pool, chain, 4, 0);
    loadBlock(pool, chain, 4, 10);
    expect(chain.tail.discontig).toBe(true);
    expect(chain.segmentsAllocated).toBe(2);
    const a = bvecqSlice(pos);
    expect(a).toMatchObject({ fpos: 0, len: 4 });
    const b = bvecqSlice(pos);
    expect(b).toMatchObject({ fpos: 10, len: 4 });
    expect([...concatViews(b.views)]).toEqual(expected(10, 4));
    const again = a.start.clone();
    expect(bvecqPosAdvance(again, 6)).toBe(6);
    expect(again.fpos).toBe(12);
  });

  it('the first load relabels the empty first segment instead of leaving it empty', () => {
    const pool = new BufferPool({ blockSize: 4, capacity: 16 });
    const chain = new Bvecq({ pool, fpos: 0 });
    const pos = chain.pos();
    loadBlock(pool, chain, 4, 100);
    expect(chain.segmentsAllocated).toBe(1);
    expect(pos.fpos).toBe(100);
    expect(bvecqSlice(pos)).toMatchObject({ fpos: 100, len: 4 });
  });
});

describe('bvecq: positions', () => {
  it('a position at the end of a full segment normalises to the next one (moving its reference)', () => {
    const { pool, chain } = setup({ maxSlots: 2, load: 2 });
    const seg0 = chain.tail;
    const pos = new BvecqPos();
    bvecqPosAttach(pos, seg0, 2, 0); // "after the last slot"...
    expect([pos.slot, pos.offset]).toEqual([1, 4]); // ...recorded as the end of the last slot
    expect(bvecqPosNudge(pos)).toBe(false); // nothing loaded after it yet: it stays
    expect(pos.seg).toBe(seg0);
    loadBlock(pool, chain);
    const refs = seg0.refs;
    expect(bvecqPosNudge(pos)).toBe(true);
    expect(pos.seg).toBe(seg0.next);
    expect([pos.slot, pos.offset, pos.fpos]).toEqual([0, 0, 8]);
    expect(seg0.refs).toBe(refs - 1);
  });

  it('a position parked at the end sees bytes the tail slot gains later (extend)', () => {
    const { pool, chain, pos } = setup({ blockSize: 8 });
    const block = pool.alloc()!;
    chain.load(patterned(block, 0, 3), { len: 3 });
    expect(bvecqSlice(pos).len).toBe(3);
    expect(chain.room).toBe(5);
    patterned(block, 3, 4, 3);
    chain.extend(4);
    const s = bvecqSlice(pos);
    expect(s).toMatchObject({ fpos: 3, len: 4 });
    expect([...concatViews(s.views)]).toEqual(expected(3, 4));
    expect(() => chain.extend(2)).toThrowError(invalidArgument);
  });

  it('a new position starts at the load point and sees only what is loaded after it', () => {
    const { pool, chain, pos } = setup({ load: 2 });
    const late = chain.pos();
    expect(late.fpos).toBe(8);
    loadBlock(pool, chain);
    expect(bvecqSlice(late)).toMatchObject({ fpos: 8, len: 4 });
    expect(bvecqSlice(pos)).toMatchObject({ fpos: 0, len: 12 }); // contiguous: across both segments
  });

  it('bytes no position points at are disposed of as soon as the load cursor moves on (take positions first)', () => {
    const { pool, chain } = setup({ maxSlots: 1, consumers: 0 });
    loadBlock(pool, chain);
    expect(pool.inUse).toBe(1); // the tail: pinned by the load cursor
    loadBlock(pool, chain);
    expect(pool.inUse).toBe(1); // segment 0 had no reader: its block went straight back
    expect(chain.segmentsLive).toBe(1);
    chain.release();
    expect(pool.inUse).toBe(0);
  });

  it('advance never passes the last loaded byte and says how far it went', () => {
    const { pool, chain, pos } = setup({ load: 3 });
    expect(bvecqPosAdvance(pos, 5)).toBe(5);
    expect(bvecqPosAdvance(pos, 100)).toBe(7);
    expect(pos.fpos).toBe(12);
    expect(bvecqPosAdvance(pos, 1)).toBe(0);
    loadBlock(pool, chain);
    expect(bvecqPosAdvance(pos, 100)).toBe(4);
    expect(pos.fpos).toBe(16);
  });

  it('clone, set and transfer carry their own references', () => {
    const { chain, pos } = setup({ load: 3 });
    bvecqPosAdvance(pos, 9);
    const seg = pos.seg!;
    const refs = seg.refs;
    const copy = pos.clone();
    expect(copy.fpos).toBe(9);
    expect(seg.refs).toBe(refs + 1);
    const other = new BvecqPos();
    bvecqPosSet(other, copy);
    expect(seg.refs).toBe(refs + 2);
    const moved = new BvecqPos();
    bvecqPosTransfer(moved, other);
    expect(other.attached).toBe(false);
    expect(moved.fpos).toBe(9);
    expect(seg.refs).toBe(refs + 2);
    copy.detach();
    moved.detach();
    moved.detach(); // idempotent
    expect(seg.refs).toBe(refs);
    expect(chain.attachedPositions).toBe(2);
    expect(() => moved.fpos).toThrowError(invalidArgument);
    expect(() => bvecqSlice(moved)).toThrowError(invalidArgument);
  });

  it('refuses to attach outside a segment or to a disposed one', () => {
    const { chain, pos } = setup({ maxSlots: 2, load: 3 });
    const seg0 = pos.seg!;
    const p = new BvecqPos();
    expect(() => bvecqPosAttach(p, seg0, 3)).toThrowError(invalidArgument);
    expect(() => bvecqPosAttach(p, seg0, 0, 5)).toThrowError(invalidArgument);
    expect(() => bvecqPosAttach(p, seg0, 2, 1)).toThrowError(invalidArgument);
    expect(() => bvecqPosAttach(p, seg0, -1)).toThrowError(invalidArgument);
    bvecqPosAdvance(pos, 8);
    expect(seg0.dead).toBe(true);
    expect(() => bvecqPosAttach(p, seg0)).toThrowError(invalidArgument);
    expect(() => bvecqGet(seg0)).toThrowError(invalidArgument);
    expect(chain.attachedPositions).toBe(2);
  });
});

describe('bvecq: references and disposal', () => {
  it('shared consumers see the same memory; it goes back only when the last one has passed', () => {
    const { pool, chain, positions } = setup({ maxSlots: 2, load: 4, consumers: 3 });
    const [file, cache, upload] = positions as [BvecqPos, BvecqPos, BvecqPos];
    const views = [file, cache, upload].map((p) => bvecqSlice(p, 4));
    for (const s of views) {
      expect(s.views[0]!.buffer).toBe(views[0]!.views[0]!.buffer);
      expect(s.views[0]!.byteOffset).toBe(views[0]!.views[0]!.byteOffset);
      s.release();
    }
    chain.release();
    expect(pool.inUse).toBe(4);
    bvecqPosAdvance(file, 16);
    bvecqPosAdvance(cache, 16);
    expect(pool.inUse).toBe(4); // upload is still in segment 0
    bvecqPosAdvance(upload, 8);
    expect(pool.inUse).toBe(2); // everyone is past segment 0
    for (const p of positions) p.detach();
    expect(pool.inUse).toBe(0);
    expect(chain.segmentsLive).toBe(0);
  });

  it('a bvecqGet (dup) keeps a segment and the ones after it alive; bvecqPut releases them', () => {
    const { pool, chain, pos } = setup({ maxSlots: 1, load: 3 });
    const seg0 = pos.seg!;
    bvecqGet(seg0);
    chain.release();
    pos.detach();
    expect(seg0.dead).toBe(false);
    expect(pool.inUse).toBe(3);
    bvecqPut(seg0);
    expect(seg0.dead).toBe(true);
    expect(pool.inUse).toBe(0);
    expect(chain.segmentsLive).toBe(0);
    expect(() => bvecqPut(seg0)).toThrowError(invalidArgument); // refcounts never go negative
  });

  it("'none' memory is never given to the pool, and a change of disposal starts a new segment", () => {
    const { pool, chain, pos } = setup({ maxSlots: 4 });
    loadBlock(pool, chain);
    const mine = patterned(new Uint8Array(6), 4);
    chain.load(mine, { disposal: 'none' });
    loadBlock(pool, chain);
    expect(chain.segmentsAllocated).toBe(3);
    expect(chain.tail.discontig).toBe(false);
    const s = bvecqSlice(pos);
    expect(s.len).toBe(14); // contiguous in the file, so one slice across the three segments
    expect([...concatViews(s.views)]).toEqual(expected(0, 14));
    expect(s.views[1]!.buffer).toBe(mine.buffer);
    s.release();
    pos.detach();
    chain.release();
    expect(pool.inUse).toBe(0);
    expect([...mine]).toEqual(expected(4, 6)); // untouched
  });

  it('refuses bad loads', () => {
    const { pool, chain } = setup({ load: 1 });
    const block = pool.alloc()!;
    expect(() => chain.load(block, { fpos: 2 })).toThrowError(/before the end/);
    expect(() => chain.load(block, { offset: 2, len: 3 })).toThrowError(invalidArgument);
    expect(() => chain.load(new Uint8Array(4))).toThrowError(/pool/);
    expect(() => chain.load(new BufferPool({ blockSize: 4, capacity: 4 }).alloc()!)).toThrowError(/pool/);
    chain.load(block);
    expect(() => chain.load(block)).toThrowError(/freed twice/);
    expect(() => new Bvecq({ disposal: 'pool' })).toThrowError(invalidArgument);
    expect(() => new Bvecq({ maxSlots: 0 })).toThrowError(invalidArgument);
    chain.release();
    expect(() => chain.load(pool.alloc()!)).toThrowError(/released/);
    expect(() => chain.extend(0)).toThrowError(/released/);
  });

  it('clear drops every position and returns all memory; later use is CANCELLED', () => {
    const { pool, chain, positions } = setup({ maxSlots: 2, load: 5, consumers: 2 });
    const [a, b] = positions as [BvecqPos, BvecqPos];
    const slice = bvecqSlice(a, 6);
    bvecqPosAdvance(b, 3);
    const held = bvecqGet(chain.tail);
    chain.clear();
    expect(chain.attachedPositions).toBe(0);
    expect(a.attached).toBe(false);
    expect(() => bvecqSlice(a)).toThrowError(cancelledError);
    expect(() => chain.load(pool.alloc()!)).toThrowError(cancelledError);
    expect(() => chain.pos()).toThrowError(cancelledError);
    slice.release(); // no-op now
    b.detach();
    expect(pool.inUse).toBe(2); // the tail's block, held by the dup, plus the refused block
    bvecqPut(held);
    expect(pool.inUse).toBe(1);
    expect(chain.segmentsLive).toBe(0);
  });
});

describe('bvecq: ranges, zeroing and copies', () => {
  it('iterates a file range as views, clipping slots and skipping gaps', () => {
    const { pool, chain, pos } = setup({ maxSlots: 4 });
    loadBlock(pool, chain, 4, 0);
    loadBlock(pool, chain, 4, 4);
    loadBlock(pool, chain, 4, 20);
    const got = [...bvecqRange(pos, 3, 22)].map(({ fpos, view }) => [fpos, [...view]]);
    expect(got).toEqual([
      [3, expected(3, 1)],
      [4, expected(4, 4)],
      [20, expected(20, 2)],
    ]);
    expect([...bvecqRange(pos, 8, 20)]).toEqual([]);
    expect(() => bvecqRange(pos, 5, 4)).toThrowError(invalidArgument);
    expect(() => bvecqCopyOut(pos, 6, 21)).toThrowError(/not loaded/);
    expect([...bvecqCopyOut(pos, 2, 7)]).toEqual(expected(2, 5));
  });

  it('copies bytes in across slots (tests only)', () => {
    const { pos } = setup({ maxSlots: 2, load: 3 });
    bvecqCopyIn(pos, 2, new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
    expect([...bvecqCopyOut(pos, 0, 12)]).toEqual([...expected(0, 2), 1, 2, 3, 4, 5, 6, 7, ...expected(9, 3)]);
    expect(() => bvecqCopyIn(pos, 10, new Uint8Array(4))).toThrowError(/not loaded/);
  });

  it('bvecqZero clears bytes (blocks are not zeroed by the pool) and advances', () => {
    const { pos } = setup({ maxSlots: 2, load: 3 });
    const start = pos.clone();
    bvecqPosAdvance(pos, 3);
    expect(bvecqZero(pos, 6)).toBe(6);
    expect(pos.fpos).toBe(9);
    expect([...bvecqCopyOut(start, 0, 12)]).toEqual([...expected(0, 3), 0, 0, 0, 0, 0, 0, ...expected(9, 3)]);
    expect(bvecqZero(pos, 100)).toBe(3);
  });
});

describe('bvecq: streaming through a bounded pool', () => {
  it('moves 1000 blocks through an 8-block pool: memory stays bounded, the bytes arrive in order', async () => {
    const pool = new BufferPool({ blockSize: 64, capacity: 64 * 8, arenaSize: 64 * 4 });
    const chain = new Bvecq({ pool, maxSlots: 3 });
    const collect = chain.pos();
    const total = 1000 * 64;
    const producer = (async () => {
      while (chain.end < total) {
        const block = await pool.allocAsync();
        chain.load(patterned(block, chain.end));
        if (chain.end % 640 === 0) await new Promise((r) => setImmediate(r));
      }
      chain.release();
    })();
    let collected = 0;
    let mismatches = 0;
    while (collected < total) {
      const s = bvecqSlice(collect, 100, 4);
      if (s.len === 0) {
        s.release();
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const bytes = concatViews(s.views);
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== pattern(s.fpos + i)) mismatches++;
      expect(s.fpos).toBe(collected);
      collected += s.len;
      s.release();
    }
    await producer;
    collect.detach();
    expect(mismatches).toBe(0);
    expect(pool.inUse).toBe(0);
    expect(pool.highWater).toBeLessThanOrEqual(8);
    expect(pool.waits).toBeGreaterThan(0);
    expect(chain.segmentsLive).toBe(0);
  }, 10_000);
});

// ---------------------------------------------------------------------------------------
// Properties. A chain is built by a random mix of loads (pool blocks, caller memory, gaps,
// zero-length slots, tail extensions) interleaved with what consumers do; every loaded byte
// holds pattern(fpos), and `model` lists the file position of every byte in chain order.

type LoadOp =
  | { kind: 'block'; gap: number; len: number }
  | { kind: 'ext'; gap: number; len: number }
  | { kind: 'extend'; n: number };

const gapArb = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 1 });
const loadOpArb: fc.Arbitrary<LoadOp> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('block' as const), gap: gapArb, len: fc.integer({ min: 0, max: 8 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('ext' as const), gap: gapArb, len: fc.integer({ min: 1, max: 12 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('extend' as const), n: fc.integer({ min: 0, max: 4 }) }), weight: 1 },
);
const limitArb = (max: number) => fc.oneof(fc.integer({ min: 0, max }), fc.constant(Infinity));

/** Applies one load to the chain and the model; false when the pool had no block. */
function applyLoad(pool: BufferPool, chain: Bvecq, model: number[], tailRoom: { buf: Uint8Array; at: number } | null, op: LoadOp) {
  if (op.kind === 'extend') {
    if (tailRoom === null) return tailRoom;
    const n = Math.min(op.n, tailRoom.buf.length - tailRoom.at);
    patterned(tailRoom.buf, chain.end, n, tailRoom.at);
    for (let i = 0; i < n; i++) model.push(chain.end + i);
    chain.extend(n);
    tailRoom.at += n;
    return tailRoom;
  }
  const fpos = chain.end + op.gap;
  let buf: Uint8Array;
  let offset = 0;
  if (op.kind === 'block') {
    const block = pool.alloc();
    if (block === null) return tailRoom;
    buf = block;
    chain.load(patterned(buf, fpos, op.len), { len: op.len, fpos });
  } else {
    buf = new Uint8Array(op.len + 6);
    offset = 2;
    chain.load(patterned(buf, fpos, op.len, offset), { offset, len: op.len, fpos, disposal: 'none' });
  }
  for (let i = 0; i < op.len; i++) model.push(fpos + i);
  return { buf, at: offset + op.len };
}

function expectPattern(s: BvecqSlice): void {
  const bytes = concatViews(s.views);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== pattern(s.fpos + i)) throw new Error(`byte at ${s.fpos + i} is ${bytes[i]}, not ${pattern(s.fpos + i)}`);
  }
}

describe('bvecq: properties', () => {
  it('property: slices reproduce exactly the loaded bytes, in order, within the byte and fragment limits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.oneof(
            { arbitrary: loadOpArb, weight: 2 },
            { arbitrary: fc.record({ kind: fc.constant('slice' as const), maxBytes: limitArb(20), maxSegs: limitArb(4) }), weight: 1 },
          ),
          { maxLength: 60 },
        ),
        (maxSlots, ops) => {
          const pool = new BufferPool({ blockSize: 8, capacity: 8 * 64, arenaSize: 64 });
          const chain = new Bvecq({ pool, maxSlots });
          const pos = chain.pos();
          const model: number[] = [];
          let tailRoom: { buf: Uint8Array; at: number } | null = null;
          let k = 0;
          const take = (maxBytes: number, maxSegs: number) => {
            const s = bvecqSlice(pos, maxBytes, maxSegs);
            expect(s.views.length).toBeLessThanOrEqual(maxSegs);
            expect(s.views.reduce((n, v) => n + v.length, 0)).toBe(s.len);
            expect(s.len).toBeLessThanOrEqual(maxBytes);
            expect(s.views.every((v) => v.length > 0)).toBe(true);
            if (s.len > 0) expect(s.fpos).toBe(model[k]);
            for (let i = 0; i < s.len; i++) expect(model[k + i]).toBe(s.fpos + i); // contiguous in the file
            expectPattern(s);
            // Maximal: it stopped for a limit, the end of the chain, or a gap.
            if (k + s.len < model.length && s.len < maxBytes && s.views.length < maxSegs) {
              expect(s.len).toBeGreaterThan(0);
              expect(model[k + s.len]).not.toBe(s.fpos + s.len);
            }
            k += s.len;
            s.release();
            return s.len;
          };
          for (const op of ops) {
            if (op.kind === 'slice') take(op.maxBytes, op.maxSegs);
            else tailRoom = applyLoad(pool, chain, model, tailRoom, op);
          }
          while (take(Infinity, 3) > 0);
          expect(k).toBe(model.length);
          pos.detach();
          chain.release();
          expect(pool.inUse).toBe(0);
          expect(chain.segmentsLive).toBe(0);
        },
      ),
    );
  });

  it('property: advance moves by exactly min(n, what is left) and lands on the right file position', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.oneof(loadOpArb, fc.record({ kind: fc.constant('advance' as const), n: fc.integer({ min: 0, max: 30 }) })),
          { maxLength: 60 },
        ),
        (maxSlots, ops) => {
          const pool = new BufferPool({ blockSize: 8, capacity: 8 * 64, arenaSize: 64 });
          const chain = new Bvecq({ pool, maxSlots });
          const pos = chain.pos();
          const model: number[] = [];
          let tailRoom: { buf: Uint8Array; at: number } | null = null;
          let k = 0;
          for (const op of ops) {
            if (op.kind !== 'advance') {
              tailRoom = applyLoad(pool, chain, model, tailRoom, op);
              continue;
            }
            const moved = bvecqPosAdvance(pos, op.n);
            expect(moved).toBe(Math.min(op.n, model.length - k));
            k += moved;
            expect(pos.fpos).toBe(k < model.length ? model[k] : chain.end);
          }
          pos.detach();
          chain.release();
          expect(pool.inUse).toBe(0);
        },
      ),
    );
  });

  type SharedOp =
    | LoadOp
    | { kind: 'slice'; c: number; maxBytes: number; maxSegs: number }
    | { kind: 'advance'; c: number; n: number }
    | { kind: 'release'; i: number }
    | { kind: 'dup'; c: number }
    | { kind: 'put'; i: number }
    | { kind: 'rejoin'; c: number; from: number };

  const consumerArb = fc.integer({ min: 0, max: 2 });
  const sharedOpArb: fc.Arbitrary<SharedOp> = fc.oneof(
    { arbitrary: loadOpArb, weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('slice' as const), c: consumerArb, maxBytes: limitArb(20), maxSegs: limitArb(4) }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('advance' as const), c: consumerArb, n: fc.integer({ min: 0, max: 40 }) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('release' as const), i: fc.nat() }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('dup' as const), c: consumerArb }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('put' as const), i: fc.nat() }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('rejoin' as const), c: consumerArb, from: consumerArb }), weight: 1 },
  );

  /** Every live segment, its exact reference count, the chain's gauges and the pool's in-use count agree. */
  function checkInvariants(chain: Bvecq, pool: BufferPool, dups: BvecqSegment[]): void {
    const live = new Set<BvecqSegment>();
    const roots = [...[...chain.positions].map((p) => p.seg!), ...dups];
    for (const root of roots) {
      for (let seg: BvecqSegment | null = root; seg !== null && !live.has(seg); seg = seg.next) live.add(seg);
    }
    let blocks = 0;
    for (const seg of live) {
      expect(seg.dead).toBe(false);
      if (seg.prev !== null) {
        expect(live.has(seg.prev)).toBe(true);
        expect(seg.prev.next).toBe(seg);
      }
      const pinned = [...chain.positions].filter((p) => p.seg === seg).length;
      const duped = dups.filter((d) => d === seg).length;
      expect(seg.refs).toBe((seg.prev === null ? 0 : 1) + pinned + duped);
      if (seg.disposal === 'pool') blocks += seg.nrSlots;
    }
    expect(chain.segmentsLive).toBe(live.size);
    expect(pool.inUse).toBe(blocks);
  }

  it('property: shared consumers, slices and dups keep exactly what they point at; all blocks return once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(sharedOpArb, { maxLength: 80 }),
        fc.boolean(),
        (maxSlots, nrConsumers, ops, endByClear) => {
          const pool = new BufferPool({ blockSize: 8, capacity: 8 * 6, arenaSize: 16 });
          const freed = new Set<Uint8Array>();
          const free = pool.free.bind(pool);
          pool.free = (block: Uint8Array) => {
            if (freed.has(block)) throw new Error('block returned twice');
            freed.add(block);
            // Poison it (pattern() never gives 255), so a view still in use shows at once.
            block.fill(255);
            free(block);
          };
          const chain = new Bvecq({ pool, maxSlots });
          const consumers = Array.from({ length: nrConsumers }, () => chain.pos());
          const consumer = (c: number): BvecqPos => consumers[c % nrConsumers]!;
          const slices: BvecqSlice[] = [];
          const dups: BvecqSegment[] = [];
          const model: number[] = [];
          let tailRoom: { buf: Uint8Array; at: number } | null = null;
          for (const op of ops) {
            switch (op.kind) {
              case 'slice': {
                const s = bvecqSlice(consumer(op.c), op.maxBytes, op.maxSegs);
                expect(s.views.length).toBeLessThanOrEqual(op.maxSegs);
                expect(s.len).toBeLessThanOrEqual(op.maxBytes);
                slices.push(s);
                break;
              }
              case 'advance':
                expect(bvecqPosAdvance(consumer(op.c), op.n)).toBeLessThanOrEqual(op.n);
                break;
              case 'release':
                if (slices.length > 0) slices.splice(op.i % slices.length, 1)[0]!.release();
                break;
              case 'dup':
                dups.push(bvecqGet(consumer(op.c).seg!));
                break;
              case 'put':
                if (dups.length > 0) bvecqPut(dups.splice(op.i % dups.length, 1)[0]!);
                break;
              case 'rejoin': {
                const from = consumer(op.from).clone();
                consumer(op.c).detach();
                consumers[op.c % nrConsumers] = from;
                break;
              }
              default:
                tailRoom = applyLoad(pool, chain, model, tailRoom, op);
            }
            // Memory safety: freed blocks are poisoned (and reused with other bytes), so a slice
            // whose memory went back to the pool too early no longer reads pattern(fpos).
            for (const s of slices) expectPattern(s);
            checkInvariants(chain, pool, dups);
          }
          if (endByClear) {
            chain.clear();
          } else {
            for (const s of slices) s.release();
            for (const c of consumers) c.detach();
            chain.release();
          }
          expect(chain.attachedPositions).toBe(0);
          for (const d of dups) bvecqPut(d);
          expect(pool.inUse).toBe(0);
          expect(chain.segmentsLive).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

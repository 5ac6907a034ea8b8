// netfs-digest §4.5 scenario B: every buffer representation the engine accepts can be sliced by
// (maxBytes, maxSegments) without throwing — Node Buffers, plain Uint8Arrays, views at offsets
// into a shared ArrayBuffer, pool blocks — and the slices give back exactly the bytes loaded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';
import { Bvecq, bvecqSlice } from './bvecq.js';

function fill(view: Uint8Array, seed: number): Uint8Array {
  for (let i = 0; i < view.length; i++) view[i] = (seed + i * 31) & 0xff;
  return view;
}

describe('scenario B: slicing any buffer representation', () => {
  it('Buffers, Uint8Arrays, shared-ArrayBuffer views and pool blocks slice by bytes and fragments', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1, max: 5 }), (sizes, maxBytes, maxSegs) => {
        const shared = new ArrayBuffer(sizes.reduce((a, b) => a + b, 0) + 64);
        let sharedAt = 7;
        const chain = new Bvecq({ disposal: 'none' });
        const pos = chain.pos();
        const expected: number[] = [];
        sizes.forEach((n, i) => {
          let buf: Uint8Array;
          switch (i % 3) {
            case 0:
              buf = fill(Buffer.alloc(n), i);
              break;
            case 1:
              buf = fill(new Uint8Array(n), i);
              break;
            default:
              buf = fill(new Uint8Array(shared, sharedAt, n), i);
              sharedAt += n;
          }
          expected.push(...buf);
          chain.load(buf);
        });
        const got: number[] = [];
        for (;;) {
          const s = bvecqSlice(pos, maxBytes, maxSegs);
          if (s.len === 0) {
            s.release();
            break;
          }
          expect(s.len).toBeLessThanOrEqual(maxBytes);
          expect(s.views.length).toBeLessThanOrEqual(maxSegs);
          for (const v of s.views) got.push(...v);
          s.release();
        }
        expect(got).toEqual(expected);
        pos.detach();
        chain.release();
      }),
      { numRuns: 200 },
    );
  });

  it('pool blocks partly used slice the same way and all go back', () => {
    const pool = new BufferPool({ blockSize: 4096, capacity: 64 * 1024 });
    const chain = new Bvecq({ pool, maxSlots: 3 });
    const pos = chain.pos();
    for (let i = 0; i < 10; i++) chain.load(fill(pool.alloc()!, i), { len: 1000 + i * 300 });
    let total = 0;
    for (;;) {
      const s = bvecqSlice(pos, 2500, 2);
      if (s.len === 0) {
        s.release();
        break;
      }
      total += s.len;
      s.release();
    }
    expect(total).toBe(Array.from({ length: 10 }, (_, i) => 1000 + i * 300).reduce((a, b) => a + b));
    pos.detach();
    chain.release();
    expect(pool.inUse).toBe(0);
  });
});

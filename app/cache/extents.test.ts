// The pure arithmetic of content tracking: range lists, visible granules, occupancy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addRange, coversRange, occupancy, removeRange, visibleRanges, type Range } from './extents.js';

const K = 1024;

describe('extents', () => {
  it('addRange and removeRange agree with a byte-set model', () => {
    const op = fc.record({ add: fc.boolean(), s: fc.integer({ min: 0, max: 64 }), len: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        let list: Range[] = [];
        const model = new Uint8Array(100);
        for (const o of ops) {
          list = o.add ? addRange(list, o.s, o.s + o.len) : removeRange(list, o.s, o.s + o.len);
          model.fill(o.add ? 1 : 0, o.s, o.s + o.len);
        }
        const fromList = new Uint8Array(100);
        for (const [x, y] of list) fromList.fill(1, x, y);
        expect(fromList).toEqual(model);
        // sorted, disjoint and not touching (merged)
        for (let i = 1; i < list.length; i++) expect(list[i]![0]).toBeGreaterThan(list[i - 1]![1]);
        for (const [x, y] of list) expect(coversRange(list, x, y)).toBe(true);
      }),
    );
  });

  it('only whole granules are visible; the last granule ends at EOF', () => {
    const size = 200 * K;
    expect(visibleRanges([[0, 100 * K]], 64 * K, size)).toEqual([[0, 64 * K]]);
    expect(visibleRanges([[10, 200 * K]], 64 * K, size)).toEqual([[64 * K, 200 * K]]);
    expect(visibleRanges([[0, 60 * K]], 64 * K, size)).toEqual([]);
  });

  it('occupancy gives at most two extents, trimmed inward to blocks except at EOF', () => {
    const vis: Range[] = [[0, 64 * K], [128 * K, 192 * K], [256 * K, 300 * K + 5]];
    expect(occupancy(vis, 0, 400 * K, 4 * K, 300 * K + 5)).toEqual([
      { start: 0, end: 64 * K, type: 'DATA' },
      { start: 128 * K, end: 192 * K, type: 'DATA' },
    ]);
    expect(occupancy(vis, 200 * K + 1, 400 * K, 4 * K, 300 * K + 5)).toEqual([{ start: 256 * K, end: 300 * K + 5, type: 'DATA' }]);
    expect(occupancy(vis, 1, 10 * K, 4 * K, 300 * K + 5)).toEqual([{ start: 4 * K, end: 8 * K, type: 'DATA' }]);
    expect(occupancy(vis, 1, 4 * K, 4 * K, 300 * K + 5)).toEqual([]);
  });
});

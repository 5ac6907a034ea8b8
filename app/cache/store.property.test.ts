// P5-lite: random write / collect / read / invalidate / reopen sequences against the real store
// (real files, real SQLite). A read returns exactly the bytes of the last collected write of
// every byte, or misses; never partial or foreign bytes; and whatever the model holds is served.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import type { CacheObject } from './object.js';
import { CacheStore } from './store.js';
import { pattern, tempCacheDir } from './testing.js';

const BS = 4096;
const GR = 16384;
const SIZE = 7 * GR + 1234;
const BLOCKS = Math.ceil(SIZE / BS);
const GRANULES = Math.ceil(SIZE / GR);
const AUX = { etag: '"p"', lastModified: 5, size: SIZE };

type Op =
  | { op: 'write'; block: number; blocks: number; seed: number; collect: boolean }
  | { op: 'collect' }
  | { op: 'read'; granule: number; granules: number }
  | { op: 'invalidate' }
  | { op: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), block: fc.oneof(fc.integer({ min: 0, max: BLOCKS - 1 }), fc.integer({ min: 0, max: GRANULES - 1 }).map((g) => (g * GR) / BS)), blocks: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(4, 8, 12)), seed: fc.integer({ min: 1, max: 250 }), collect: fc.oneof(fc.constant(true), fc.constant(true), fc.boolean()) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'collect' as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), granule: fc.integer({ min: 0, max: GRANULES - 1 }), granules: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'invalidate' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

interface Pending {
  start: number;
  bytes: Uint8Array;
}

describe('P5-lite: the store serves collected bytes or misses', () => {
  it('holds for random operation sequences, across re-opens', async () => {
    let hits = 0;
    let misses = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40, size: 'medium' }), async (ops) => {
        const { dir, cleanup } = await tempCacheDir();
        const opts = { volume: 'p5', blockSize: BS, granule: GR };
        let store = await CacheStore.open(dir, opts);
        let obj: CacheObject = await store.openObject('/p', AUX);
        const data = new Uint8Array(SIZE);
        const known = new Uint8Array(SIZE); // 1 = the model says these bytes are collected
        let pending: Pending[] = [];
        try {
          for (const o of ops) {
            if (o.op === 'write') {
              const start = o.block * BS;
              const end = Math.min(SIZE, start + o.blocks * BS);
              const bytes = pattern(end - start, o.seed);
              pending = pending.filter((p) => p.start + p.bytes.length <= start || p.start >= end);
              known.fill(0, start, end);
              await obj.write(start, [bytes]);
              if (o.collect) {
                await obj.collectWrite(start, bytes.length);
                data.set(bytes, start);
                known.fill(1, start, end);
              } else pending.push({ start, bytes });
            } else if (o.op === 'collect') {
              const p = pending.shift();
              if (p === undefined) continue;
              await obj.collectWrite(p.start, p.bytes.length);
              data.set(p.bytes, p.start);
              known.fill(1, p.start, p.start + p.bytes.length);
            } else if (o.op === 'read') {
              const start = o.granule * GR;
              const end = Math.min(SIZE, start + o.granules * GR);
              const buf = new Uint8Array(end - start);
              const got = await obj.read(start, [buf]).then(
                (n) => n,
                (e: unknown) => {
                  if (isNetfsError(e) && e.code === 'IO') return null;
                  throw e;
                },
              );
              const allKnown = known.subarray(start, end).every((k) => k === 1);
              if (got === null) misses++;
              else hits++;
              if (got === null) expect(allKnown, `a miss at [${start}, ${end}) the model holds`).toBe(false);
              else {
                expect(allKnown, `bytes served at [${start}, ${end}) that were never collected`).toBe(true);
                expect(Buffer.from(buf).equals(Buffer.from(data.subarray(start, end)))).toBe(true);
              }
              for (const x of await obj.queryOccupancy(0, SIZE)) {
                expect(known.subarray(x.start, x.end).every((k) => k === 1)).toBe(true);
              }
            } else if (o.op === 'invalidate') {
              await obj.invalidate('write-error');
              known.fill(0);
              pending = [];
            } else {
              await store.close();
              for (const p of pending) known.fill(0, p.start, p.start + p.bytes.length);
              pending = [];
              store = await CacheStore.open(dir, opts);
              obj = await store.openObject('/p', AUX);
            }
          }
        } finally {
          await store.close();
          await cleanup();
        }
      }),
      { numRuns: 150 },
    );
    // Not vacuous: both answers happened.
    expect(hits).toBeGreaterThan(10);
    expect(misses).toBeGreaterThan(10);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool, DEFAULT_BLOCK_SIZE, DEFAULT_POOL_CAPACITY } from './buffer-pool.js';

const invalidArgument = expect.objectContaining({ code: 'INVALID_ARGUMENT' });
const cancelledError = expect.objectContaining({ code: 'CANCELLED' });

describe('BufferPool', () => {
  it('defaults to 64 blocks of 1 MiB and allocates no memory until asked', () => {
    const pool = new BufferPool();
    expect(pool.blockSize).toBe(DEFAULT_BLOCK_SIZE);
    expect(pool.capacity).toBe(DEFAULT_POOL_CAPACITY);
    expect(pool.blocks).toBe(64);
    expect(pool.stats()).toMatchObject({ arenas: 0, reservedBytes: 0, inUse: 0 });
    const block = pool.alloc();
    expect(block?.length).toBe(1 << 20);
    expect(pool.stats()).toMatchObject({ arenas: 1, reservedBytes: 16 << 20, inUse: 1 });
  });

  it('carves arenas lazily and never more than the capacity (memory does not grow with use)', () => {
    const pool = new BufferPool({ blockSize: 4, capacity: 40, arenaSize: 16 });
    expect(pool.arenaBlocks).toBe(4);
    const got: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      const b = pool.alloc();
      expect(b).not.toBeNull();
      got.push(b!);
      expect(pool.stats().arenas).toBe(Math.floor(i / 4) + 1);
    }
    expect(pool.alloc()).toBeNull();
    // The last arena holds only what the capacity leaves: 2 blocks, not 4.
    expect(pool.stats().reservedBytes).toBe(40);
    for (const b of got) pool.free(b);
    for (let round = 0; round < 5; round++) {
      const again = Array.from({ length: 10 }, () => pool.alloc()!);
      for (const b of again) pool.free(b);
    }
    expect(pool.stats()).toMatchObject({ arenas: 3, reservedBytes: 40, inUse: 0, highWater: 10 });
  });

  it('hands out disjoint blocks', () => {
    const pool = new BufferPool({ blockSize: 8, capacity: 64, arenaSize: 32 });
    const blocks = Array.from({ length: 8 }, () => pool.alloc()!);
    blocks.forEach((b, i) => b.fill(i + 1));
    blocks.forEach((b, i) => expect(b.every((x) => x === i + 1)).toBe(true));
  });

  it('rounds the capacity down to whole blocks and refuses bad options', () => {
    expect(new BufferPool({ blockSize: 10, capacity: 25 }).blocks).toBe(2);
    expect(() => new BufferPool({ blockSize: 10, capacity: 9 })).toThrowError(invalidArgument);
    expect(() => new BufferPool({ blockSize: 0 })).toThrowError(invalidArgument);
    expect(() => new BufferPool({ blockSize: 1.5 })).toThrowError(invalidArgument);
    expect(() => new BufferPool({ capacity: -1 })).toThrowError(invalidArgument);
    expect(() => new BufferPool({ arenaSize: Number.NaN })).toThrowError(invalidArgument);
    // An arena smaller than a block still holds one block.
    expect(new BufferPool({ blockSize: 16, capacity: 64, arenaSize: 8 }).arenaBlocks).toBe(1);
  });

  it('detects double frees, stale views, sub-views and foreign buffers', () => {
    const pool = new BufferPool({ blockSize: 8, capacity: 16 });
    const a = pool.alloc()!;
    pool.free(a);
    expect(() => pool.free(a)).toThrowError(invalidArgument); // double free
    const again = pool.alloc()!; // may be the same memory as `a`...
    expect(() => pool.free(a)).toThrowError(invalidArgument); // ...but `a` is stale
    expect(() => pool.free(again.subarray(0, 4))).toThrowError(/not in use/);
    expect(() => pool.free(new Uint8Array(8))).toThrowError(/does not belong/);
    expect(() => pool.free(new BufferPool({ blockSize: 8, capacity: 8 }).alloc()!)).toThrowError(/does not belong/);
    expect(pool.inUse).toBe(1);
    pool.free(again);
    expect(pool.inUse).toBe(0);
  });

  it('does not zero blocks: a block holds what its last user left (consumers read only what was written)', () => {
    const pool = new BufferPool({ blockSize: 4, capacity: 4 });
    const a = pool.alloc()!;
    a.set([1, 2, 3, 4]);
    pool.free(a);
    expect([...pool.alloc()!]).toEqual([1, 2, 3, 4]);
  });

  it('allocAsync resolves at once when a block is free and counts no wait', async () => {
    const pool = new BufferPool({ blockSize: 4, capacity: 8 });
    const a = await pool.allocAsync();
    expect(pool.owns(a)).toBe(true);
    expect(pool.waits).toBe(0);
  });

  it('allocAsync waits in FIFO order and free() hands blocks straight to the waiters', async () => {
    const pool = new BufferPool({ blockSize: 4, capacity: 8 });
    const held = [pool.alloc()!, pool.alloc()!];
    const order: number[] = [];
    const waits = [0, 1, 2].map((i) =>
      pool.allocAsync().then((b) => {
        order.push(i);
        return b;
      }),
    );
    expect(pool.waiting).toBe(3);
    expect(pool.waits).toBe(3);
    pool.free(held[0]!);
    // The freed block went to the first waiter, not back to the pool: alloc() must not barge in.
    expect(pool.alloc()).toBeNull();
    pool.free(held[1]!);
    const first = await waits[0]!;
    const second = await waits[1]!;
    expect(order).toEqual([0, 1]);
    expect(pool.waiting).toBe(1);
    pool.free(first);
    const third = await waits[2]!;
    expect(order).toEqual([0, 1, 2]);
    pool.free(second);
    pool.free(third);
    expect(pool.inUse).toBe(0);
    expect(pool.highWater).toBe(2);
  });

  it('allocAsync rejects with CANCELLED on abort and leaves the queue', async () => {
    const pool = new BufferPool({ blockSize: 4, capacity: 4 });
    const held = pool.alloc()!;
    const controller = new AbortController();
    const cancelledWait = pool.allocAsync(controller.signal);
    const laterWait = pool.allocAsync();
    expect(pool.waiting).toBe(2);
    controller.abort(new Error('user'));
    await expect(cancelledWait).rejects.toEqual(cancelledError);
    expect(pool.waiting).toBe(1);
    pool.free(held);
    const b = await laterWait;
    expect(pool.owns(b)).toBe(true);
    expect(pool.inUse).toBe(1);
    // Already aborted: rejected without queueing, even when a block would be free.
    pool.free(b);
    await expect(pool.allocAsync(AbortSignal.abort())).rejects.toEqual(cancelledError);
    expect(pool.inUse).toBe(0);
    expect(pool.waiting).toBe(0);
  });

  it('a waiter served before its signal aborts keeps its block', async () => {
    const pool = new BufferPool({ blockSize: 4, capacity: 4 });
    const held = pool.alloc()!;
    const controller = new AbortController();
    const wait = pool.allocAsync(controller.signal);
    pool.free(held);
    controller.abort();
    const b = await wait;
    expect(pool.owns(b)).toBe(true);
  });

  it('property: inUse, highWater and the free/owned state follow a model; no block is out twice', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.oneof(fc.constant<'alloc'>('alloc'), fc.nat({ max: 20 })), { maxLength: 200 }),
        (blocks, arenaBlocks, steps) => {
          const pool = new BufferPool({ blockSize: 4, capacity: 4 * blocks, arenaSize: 4 * arenaBlocks });
          const out: Uint8Array[] = [];
          let highWater = 0;
          for (const step of steps) {
            if (step === 'alloc') {
              const b = pool.alloc();
              if (out.length === blocks) {
                expect(b).toBeNull();
              } else {
                expect(b).not.toBeNull();
                // Disjoint from every block out now.
                for (const o of out) {
                  const overlap = o.buffer === b!.buffer && o.byteOffset < b!.byteOffset + 4 && b!.byteOffset < o.byteOffset + 4;
                  expect(overlap).toBe(false);
                }
                out.push(b!);
              }
            } else if (out.length > 0) {
              const [b] = out.splice(step % out.length, 1);
              pool.free(b!);
              expect(() => pool.free(b!)).toThrow();
            }
            highWater = Math.max(highWater, out.length);
            expect(pool.inUse).toBe(out.length);
            expect(pool.highWater).toBe(highWater);
            expect(pool.stats().reservedBytes).toBeLessThanOrEqual(pool.capacity);
          }
        },
      ),
    );
  });
});

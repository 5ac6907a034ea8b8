// The per-file writeback lock (behaviour 39): FIFO hand-over, tryLock never waits, a cancelled
// waiter leaves the queue, entries vanish when nobody holds or waits.
import { describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { WritebackLocks } from './write-locks.js';

describe('WritebackLocks', () => {
  it('39: tryLock takes a free path at once and refuses a held one; other paths are independent', () => {
    const locks = new WritebackLocks();
    const a = locks.tryLock('/a');
    expect(a).not.toBeNull();
    expect(locks.tryLock('/a')).toBeNull();
    const b = locks.tryLock('/b');
    expect(b).not.toBeNull();
    a!();
    a!(); // releasing twice is harmless
    expect(locks.isLocked('/a')).toBe(false);
    b!();
    expect(locks.size).toBe(0);
  });

  it('39: waiters get the lock in the order they asked, each after the previous holder released', async () => {
    const locks = new WritebackLocks();
    const order: string[] = [];
    const first = locks.tryLock('/f')!;
    const w1 = locks.lock('/f').then((r) => {
      order.push('w1');
      return r;
    });
    const w2 = locks.lock('/f').then((r) => {
      order.push('w2');
      return r;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    first();
    const r1 = await w1;
    expect(order).toEqual(['w1']);
    expect(locks.tryLock('/f')).toBeNull();
    r1();
    (await w2)();
    expect(order).toEqual(['w1', 'w2']);
    expect(locks.size).toBe(0);
  });

  it('39: a waiter cancelled by its signal leaves the queue with CANCELLED; the next one still gets the lock', async () => {
    const locks = new WritebackLocks();
    const held = locks.tryLock('/c')!;
    const ac = new AbortController();
    const cancelled = locks.lock('/c', ac.signal).catch((e: unknown) => e);
    const next = locks.lock('/c');
    ac.abort();
    const e = await cancelled;
    expect(isNetfsError(e) && e.code).toBe('CANCELLED');
    held();
    (await next)();
    expect(locks.size).toBe(0);
    const pre = new AbortController();
    pre.abort();
    const again = locks.tryLock('/c')!;
    expect(await locks.lock('/c', pre.signal).catch((x: unknown) => isNetfsError(x) && x.code)).toBe('CANCELLED');
    again();
  });
});

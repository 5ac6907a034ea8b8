import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket (the bandwidth limit)', () => {
  it('keeps takers together at the rate: 600 KiB at 1 MiB/s with a 64 KiB burst takes about half a second', async () => {
    const bucket = new TokenBucket(1024 * 1024, 64 * 1024);
    const t0 = performance.now();
    await Promise.all([0, 1, 2].map(async () => {
      for (let i = 0; i < 4; i++) await bucket.take(50 * 1024);
    }));
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(5_000);
  });

  it('a taker whose signal aborts while it waits behind others rejects at once and takes nothing', async () => {
    const bucket = new TokenBucket(10 * 1024, 1024);
    await bucket.take(1024);
    await bucket.take(20 * 1024).catch(() => undefined); // puts the bucket ~2 s in debt
    const ahead = bucket.take(1024); // waits ~2 s
    const controller = new AbortController();
    const queued = bucket.take(20 * 1024, controller.signal); // would cost 2 s of debt
    const t0 = performance.now();
    controller.abort(new Error('stop'));
    await expect(queued).rejects.toThrow('stop');
    expect(performance.now() - t0).toBeLessThan(500);
    await ahead;
    // The skipped turn took nothing: the next taker waits for ahead's 1 KiB only (~0.1 s), not 2 s more.
    const t1 = performance.now();
    await bucket.take(1);
    expect(performance.now() - t1).toBeLessThan(1_000);
  });

  it('rate 0 is unlimited; setRate changes the limit at run time', async () => {
    const bucket = new TokenBucket(0);
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) await bucket.take(1 << 20);
    expect(performance.now() - t0).toBeLessThan(100);
    bucket.setRate(512 * 1024);
    expect(bucket.rate).toBe(512 * 1024);
    expect(() => bucket.setRate(-1)).toThrow(/non-negative/);
  });
});

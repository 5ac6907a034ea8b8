// A byte-rate limiter for the fault proxy. One instance may be shared by many transfers (the
// proxy-wide cap: "a proxy capped at 750 KiB/s", L6) or belong to one request (a throttle
// rule). Each take(n) books the next n/rate seconds of the line and waits for its turn:
//
//   time ──|slice 1|slice 2|slice 3|…      a slice starts when the one before it has "drained"
//
// Idle time is not saved up: after a pause the next slice starts now, never in a burst.
import { setTimeout as sleep } from 'node:timers/promises';

export class Throttle {
  private rate: number | null;
  private next = 0;

  constructor(bytesPerSecond: number | null) {
    this.rate = Throttle.check(bytesPerSecond);
  }

  private static check(bytesPerSecond: number | null): number | null {
    if (bytesPerSecond !== null && !(bytesPerSecond > 0 && Number.isFinite(bytesPerSecond))) {
      throw new Error(`throttle: bytesPerSecond must be a positive number or null, got ${bytesPerSecond}`);
    }
    return bytesPerSecond;
  }

  get bytesPerSecond(): number | null {
    return this.rate;
  }

  /** Change the rate (null: no limit); bookings already made stand. */
  setRate(bytesPerSecond: number | null): void {
    this.rate = Throttle.check(bytesPerSecond);
  }

  get active(): boolean {
    return this.rate !== null;
  }

  /** Slices small enough for ~20 turns a second, at most 16 KiB. */
  sliceSize(): number {
    return this.rate === null ? Number.POSITIVE_INFINITY : Math.max(1, Math.min(16 * 1024, Math.floor(this.rate / 20)));
  }

  /** Waits until `bytes` may go. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.rate === null) return;
    const now = performance.now();
    const start = Math.max(now, this.next);
    this.next = start + (bytes * 1000) / this.rate;
    if (start > now) await sleep(start - now, undefined, signal === undefined ? undefined : { signal });
  }
}

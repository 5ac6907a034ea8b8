/**
 * A token bucket shared by every transfer in one direction (the bandwidth limit): transfers stay
 * parallel and together average at most `rate` bytes a second.
 *
 *   take(n): wait while the bucket is in debt, then take n (the bucket may go into debt by up to
 *            one chunk: the average holds, and a chunk larger than the burst still passes)
 *   refill: rate bytes/s, capped at `burst`
 *   rate 0 = unlimited (take resolves at once)
 */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(rate: number, burst?: number) {
    this.#rate = 0;
    this.#burst = 0;
    this.#tokens = 0;
    this.#last = performance.now();
    this.setRate(rate, burst);
  }

  get rate(): number {
    return this.#rate;
  }

  /** Changes the limit at run time (0 = unlimited). */
  setRate(rate: number, burst?: number): void {
    if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`bandwidth limit must be a non-negative number of bytes a second, not ${rate}`);
    this.#refill();
    this.#rate = rate;
    this.#burst = burst ?? Math.max(64 * 1024, rate / 4);
    this.#tokens = Math.min(this.#tokens, this.#burst);
  }

  #refill(): void {
    const now = performance.now();
    if (this.#rate > 0) this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
  }

  /**
   * Resolves when `n` bytes may be sent or received; rejects as soon as `signal` aborts, also
   * while still queued behind other takers (then its turn is skipped and takes nothing).
   */
  take(n: number, signal?: AbortSignal): Promise<void> {
    if (this.#rate === 0) return Promise.resolve();
    const reason = (): Error => (signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal?.aborted === true) return Promise.reject(reason());
    const turn = this.#queue.then(async () => {
      for (;;) {
        if (signal?.aborted === true) throw reason();
        if (this.#rate === 0) return;
        this.#refill();
        if (this.#tokens >= 0) {
          this.#tokens -= n;
          return;
        }
        const waitMs = Math.ceil((-this.#tokens / this.#rate) * 1000);
        await new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, waitMs)));
      }
    });
    this.#queue = turn.catch(() => undefined);
    if (signal === undefined) return turn;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(reason());
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

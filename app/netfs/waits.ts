/**
 * Small async primitives the engine's phases share (the user-space stand-ins for the kernel's
 * wait queues and locks).
 *
 *   Semaphore  n slots, FIFO waiters          (in-flight subrequest limits)
 *   Mutex      a Semaphore of 1                (the pool allocation lock)
 *   Waker      "something changed": coalesces wake-ups into one pending run of a task
 */
import { NetfsError } from '../api/errors.js';

export class Semaphore {
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  constructor(private available: number) {}

  get free(): number {
    return this.available;
  }

  tryAcquire(): boolean {
    if (this.available > 0 && this.waiters.length === 0) {
      this.available--;
      return true;
    }
    return false;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (signal?.aborted === true) return Promise.reject(new NetfsError('CANCELLED', 'cancelled while waiting'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new NetfsError('CANCELLED', 'cancelled while waiting'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next.resolve();
    else this.available++;
  }
}

export class Mutex extends Semaphore {
  constructor() {
    super(1);
  }
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/**
 * Runs `task` whenever woken, never twice at once; wakes during a run cause exactly one more run.
 * Errors thrown by the task go to `onError`.
 */
export class Waker {
  private running = false;
  private pending = false;
  constructor(private readonly task: () => Promise<void>, private readonly onError: (e: unknown) => void) {}

  wake(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = true;
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.pending = false;
        await this.task();
      } while (this.pending);
    } catch (e) {
      this.onError(e);
    } finally {
      this.running = false;
    }
  }
}

/** A promise with its resolve/reject exposed. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The views that remain after skipping `n` bytes of `views` (no copy). */
export function skipViews(views: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = n;
  for (const v of views) {
    if (skip >= v.length) {
      skip -= v.length;
      continue;
    }
    out.push(skip === 0 ? v : v.subarray(skip));
    skip = 0;
  }
  return out;
}

/** The first `n` bytes of `views` (no copy). */
export function takeViews(views: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = n;
  for (const v of views) {
    if (left <= 0) break;
    out.push(v.length <= left ? v : v.subarray(0, left));
    left -= v.length;
  }
  return out;
}

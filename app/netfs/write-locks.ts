/**
 * The per-file writeback lock (digest §3.2 step 1, §3.9; behaviour 39): one writeback of a
 * file at a time. The kernel serialises writeback per inode; we serialise per remote path.
 *
 *   upload(path)                         WritebackLocks
 *     tryLock(path) ──free──────────────> held { waiters: [] }        -> run, release()
 *        └─held: opportunistic? ── yes ─> "skipped"                    (WbLock skip++)
 *                               └─ no ──> lock(path, signal): queued  (WbLock wait++)
 *                                         release() hands the lock to the oldest waiter
 *
 * Taken synchronously by tryLock (before the caller's first await), so two uploads started in
 * the same tick are ordered as they were called. Keys are remote paths compared exactly; an
 * entry lives only while the lock is held or waited for.
 */
import { NetfsError } from '../api/errors.js';

interface Held {
  waiters: Array<{ grant: () => void; signal: AbortSignal | undefined; onAbort: (() => void) | undefined }>;
}

export type WritebackRelease = () => void;

export class WritebackLocks {
  readonly #held = new Map<string, Held>();

  /** Paths held or waited for now (for tests and the request list). */
  get size(): number {
    return this.#held.size;
  }

  isLocked(path: string): boolean {
    return this.#held.has(path);
  }

  /** The lock now, or null when someone holds it. Never waits. */
  tryLock(path: string): WritebackRelease | null {
    if (this.#held.has(path)) return null;
    this.#held.set(path, { waiters: [] });
    return this.#releaser(path);
  }

  /** The lock, waiting in FIFO order behind earlier callers; CANCELLED when `signal` fires first. */
  lock(path: string, signal?: AbortSignal): Promise<WritebackRelease> {
    const now = this.tryLock(path);
    if (now !== null) return Promise.resolve(now);
    if (signal?.aborted === true) return Promise.reject(cancelled(path));
    const held = this.#held.get(path)!;
    return new Promise<WritebackRelease>((resolve, reject) => {
      const waiter: Held['waiters'][number] = {
        grant: () => {
          if (waiter.onAbort !== undefined) signal?.removeEventListener('abort', waiter.onAbort);
          resolve(this.#releaser(path));
        },
        signal,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const at = held.waiters.indexOf(waiter);
          if (at !== -1) held.waiters.splice(at, 1);
          reject(cancelled(path));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      held.waiters.push(waiter);
    });
  }

  #releaser(path: string): WritebackRelease {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = this.#held.get(path);
      const next = held?.waiters.shift();
      if (next === undefined) this.#held.delete(path);
      else next.grant();
    };
  }
}

function cancelled(path: string): NetfsError {
  return new NetfsError('CANCELLED', `writeback of ${path}: cancelled while waiting for the writeback lock`);
}

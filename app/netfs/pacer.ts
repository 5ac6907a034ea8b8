/**
 * One pacer per server origin: backoff after failures and the server's `Retry-After`, so that no
 * request reaches a server that asked for quiet before its time (F8) — new requests included,
 * not only the retried one.
 *
 *   ready(origin)     waits until `quietUntil` (immediately when the server is healthy)
 *   backoff(origin, attempt, retryAfterMs?)
 *       delay = Retry-After, or base * 2^(attempt-1) with full jitter, at most maxBackoff
 *       quietUntil = max(quietUntil, now + delay); a delay over maxWait is refused (the
 *       subrequest then fails TRANSIENT with retryAfterMs, and the sync layer reschedules)
 *   success(origin)   resets the failure streak
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NetfsError } from '../api/errors.js';

export interface PacerOptions {
  /** First backoff (default 250 ms). */
  baseMs?: number;
  /** Longest computed backoff (default 8 s). */
  maxBackoffMs?: number;
  /** Longest wait the engine accepts before giving the item back to the sync layer (default 60 s). */
  maxWaitMs?: number;
  /** Random source, for reproducible tests. */
  random?: () => number;
}

interface OriginState {
  quietUntil: number;
  failures: number;
}

export class Pacer {
  private readonly origins = new Map<string, OriginState>();
  readonly baseMs: number;
  readonly maxBackoffMs: number;
  readonly maxWaitMs: number;
  private readonly random: () => number;

  constructor(options: PacerOptions = {}) {
    this.baseMs = options.baseMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 8_000;
    this.maxWaitMs = options.maxWaitMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  private state(origin: string): OriginState {
    let s = this.origins.get(origin);
    if (s === undefined) {
      s = { quietUntil: 0, failures: 0 };
      this.origins.set(origin, s);
    }
    return s;
  }

  /** When the origin may next be contacted (ms since the epoch; 0 = now). */
  quietUntil(origin: string): number {
    return this.origins.get(origin)?.quietUntil ?? 0;
  }

  /**
   * Waits until the origin may be contacted; a wait longer than the engine accepts fails at once
   * as TRANSIENT with retryAfterMs (the caller reschedules instead of sitting on it).
   */
  async ready(origin: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.quietUntil(origin) - Date.now();
      if (wait <= 0) return;
      if (wait > this.maxWaitMs) {
        throw new NetfsError('TRANSIENT', `${origin} asked for quiet for another ${Math.round(wait / 1000)} s`, { retryAfterMs: wait });
      }
      try {
        await sleep(wait, undefined, signal === undefined ? {} : { signal });
      } catch {
        throw new NetfsError('CANCELLED', `waiting for ${origin}: cancelled`);
      }
    }
  }

  /**
   * Records a failure and how long the origin should be left alone. Returns the delay, or throws
   * TRANSIENT (with retryAfterMs) when the wait is longer than the engine accepts.
   */
  backoff(origin: string, attempt: number, retryAfterMs?: number): number {
    const s = this.state(origin);
    s.failures++;
    const computed = Math.min(this.maxBackoffMs, this.baseMs * 2 ** Math.max(0, attempt - 1));
    const delay = retryAfterMs !== undefined ? retryAfterMs : Math.round(computed * (0.5 + this.random() / 2));
    s.quietUntil = Math.max(s.quietUntil, Date.now() + delay);
    if (delay > this.maxWaitMs) {
      throw new NetfsError('TRANSIENT', `${origin} asked for ${Math.round(delay / 1000)} s of quiet; the item is rescheduled`, { retryAfterMs: delay });
    }
    return delay;
  }

  success(origin: string): void {
    const s = this.origins.get(origin);
    if (s !== undefined) s.failures = 0;
  }
}

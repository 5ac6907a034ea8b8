/**
 * Throughput for the status and transfers streams: bytes a second down and up over the last few
 * seconds, from the engine's trace (every finished server subrequest says how many bytes it
 * moved, however short it lived: small files finish between two snapshots).
 *
 *   trace: netfs_sreq TERM source DOWN (from the server) / UPLD (to the server), transferred
 *     --add(time, down, up)--> running totals --> samples over WINDOW_MS
 *   rates(now) = (newest totals - oldest in the window) / max(window span, 1 s)
 */
import type { TraceEvent } from '../netfs/trace.js';

const WINDOW_MS = 3000;

interface Sample {
  t: number;
  down: number;
  up: number;
}

export class Throughput {
  #samples: Sample[] = [];
  #down = 0;
  #up = 0;

  /** Counts the bytes of the server subrequests that finished in `events`. */
  observe(timeMs: number, events: readonly TraceEvent[]): void {
    for (const e of events) {
      if (e.kind !== 'sreq' || e.what !== 'TERM') continue;
      if (e.source === 'DOWN') this.#down += e.transferred ?? 0;
      else if (e.source === 'UPLD') this.#up += e.transferred ?? 0;
    }
    this.#sample(timeMs);
  }

  #sample(timeMs: number): void {
    this.#samples.push({ t: timeMs, down: this.#down, up: this.#up });
    while (this.#samples.length > 2 && (this.#samples[0]?.t ?? timeMs) < timeMs - WINDOW_MS) this.#samples.shift();
  }

  /** Bytes a second down and up as of `timeMs` (0 once nothing moved for the whole window). */
  rates(timeMs: number): { rateDown: number; rateUp: number } {
    this.#sample(timeMs);
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (first === undefined || last === undefined || last.t <= first.t) return { rateDown: 0, rateUp: 0 };
    const span = Math.max(last.t - first.t, 1000);
    return { rateDown: Math.round(((last.down - first.down) * 1000) / span), rateUp: Math.round(((last.up - first.up) * 1000) / span) };
  }
}

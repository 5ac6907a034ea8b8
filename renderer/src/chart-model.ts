/**
 * The throughput chart's numbers (pure): samples bucketed one a second over the window, and a
 * round top for the axis.
 */
import type { ThroughputSample } from './client/live-history.js';

export interface Series {
  down: number[];
  up: number[];
}

/** Per-second series over [now - windowMs, now], oldest first. */
export function bucketSamples(samples: readonly ThroughputSample[], now: number, windowMs: number): Series {
  const n = Math.max(1, Math.round(windowMs / 1000));
  const down = new Array<number>(n).fill(0);
  const up = new Array<number>(n).fill(0);
  const has = new Array<boolean>(n).fill(false);
  const from = now - n * 1000;
  for (const s of samples) {
    const i = Math.floor((s.t - from) / 1000);
    if (i < 0 || i >= n) continue;
    down[i] = has[i] ? Math.max(down[i] ?? 0, s.down) : s.down;
    up[i] = has[i] ? Math.max(up[i] ?? 0, s.up) : s.up;
    has[i] = true;
  }
  let held = -1;
  for (let i = 0; i < n; i++) {
    if (has[i]) held = i;
    else if (held >= 0 && i - held <= 3) {
      down[i] = down[held] ?? 0;
      up[i] = up[held] ?? 0;
    }
  }
  return { down, up };
}

/** 1, 2 or 5 times a power of ten, at least `v` (and at least 1 kB/s). */
export function niceCeiling(v: number): number {
  const x = Math.max(v, 1000);
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

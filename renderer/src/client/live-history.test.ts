// What the Transfers view remembers between snapshots (issue 8 "Transfers"): smoothed speed and
// ETA per request, throughput samples, consumed subrequests kept for the strip, finished ones.
import { describe, expect, it } from 'vitest';
import type { Transfer } from '../../../app/api/contract.js';
import { SUBREQUEST_FLAGS } from '../../../app/api/flags.js';
import { etaSeconds, LiveHistory } from './live-history.js';

const MB = 1_000_000;

function transfer(debugId: number, transferred: number, subrequests: Transfer['subrequests'] = [], error: string | null = null): Transfer {
  return { debugId, origin: 'download', path: `/f${debugId}.bin`, flags: 1, error, startMs: 0, start: 0, submitted: transferred, len: 10 * MB, transferred, retries: 0, subrequests };
}

function sub(index: number, start: number, len: number, flags: number, transferred = 0) {
  return { index, source: 'DOWN', start, len, transferred, flags, retryCount: 0, error: null };
}

describe('LiveHistory', () => {
  it('measures speed between snapshots (smoothed) and gives an ETA', () => {
    const h = new LiveHistory();
    h.ingest({ transfers: [transfer(1, 0)], rateDown: 0, rateUp: 0 }, 1000);
    h.ingest({ transfers: [transfer(1, 1 * MB)], rateDown: MB, rateUp: 0 }, 2000);
    expect(h.speedOf(1)).toBe(MB);
    h.ingest({ transfers: [transfer(1, 2 * MB)], rateDown: MB, rateUp: 0 }, 4000);
    // 0.4 × 0.5 MB/s + 0.6 × 1 MB/s
    expect(h.speedOf(1)).toBeCloseTo(0.8 * MB);
    expect(etaSeconds(10 * MB, 2 * MB, h.speedOf(1))).toBeCloseTo(10);
    expect(etaSeconds(10 * MB, 2 * MB, null)).toBeNull();
    // 1 MB in 1 s, then 1 MB in 2 s (the host's rate said 1 MB/s: the larger is kept).
    expect(h.samples.map((s) => s.down)).toEqual([0, MB, MB]);
    expect(h.current(4000)).toEqual({ down: MB, up: 0 });
    expect(h.current(8000)).toEqual({ down: 0, up: 0 });
  });

  it('keeps subrequests the engine dropped (consumed) as done, so the strip shows the whole request', () => {
    const h = new LiveHistory();
    h.ingest({ transfers: [transfer(7, 0, [sub(0, 0, 4 * MB, SUBREQUEST_FLAGS.IN_PROGRESS, MB), sub(1, 4 * MB, 4 * MB, SUBREQUEST_FLAGS.IN_PROGRESS)])], rateDown: 0, rateUp: 0 }, 0);
    h.ingest({ transfers: [transfer(7, 4 * MB, [sub(1, 4 * MB, 4 * MB, SUBREQUEST_FLAGS.IN_PROGRESS, 2 * MB)])], rateDown: 0, rateUp: 0 }, 500);
    const subs = h.subrequestsOf(7);
    expect(subs.map((s) => [s.index, s.consumed, s.transferred])).toEqual([
      [0, true, 4 * MB],
      [1, false, 2 * MB],
    ]);
    // Bytes moved count the subrequest still in flight; the collector has only 4 MB so far.
    expect(h.movedOf(7)).toBe(6 * MB);
  });

  it('moves a request that left the live list into the finished history, newest first', () => {
    const h = new LiveHistory();
    h.ingest({ transfers: [transfer(1, 5 * MB), transfer(2, MB, [], 'TRANSIENT')], rateDown: 0, rateUp: 0 }, 100);
    h.ingest({ transfers: [transfer(2, MB, [], 'TRANSIENT')], rateDown: 0, rateUp: 0 }, 200);
    h.ingest({ transfers: [], rateDown: 0, rateUp: 0 }, 300);
    expect(h.finished.map((f) => [f.debugId, f.endMs, f.transferred, f.error])).toEqual([
      [2, 300, MB, 'TRANSIENT'],
      [1, 200, 10 * MB, null],
    ]);
    expect(h.subrequestsOf(1)).toEqual([]);
  });

  it('measures throughput from bytes moved when the host’s rate lags (a long subrequest not ended yet)', () => {
    const h = new LiveHistory();
    h.ingest({ transfers: [transfer(3, 0, [sub(0, 0, 4 * MB, SUBREQUEST_FLAGS.IN_PROGRESS)])], rateDown: 0, rateUp: 0 }, 0);
    h.ingest({ transfers: [transfer(3, 0, [sub(0, 0, 4 * MB, SUBREQUEST_FLAGS.IN_PROGRESS, 2 * MB)])], rateDown: 0, rateUp: 0 }, 1000);
    expect(h.samples[1]?.down).toBe(2 * MB);
    // It ends between snapshots: its last 8 MB count in the next sample.
    h.ingest({ transfers: [], rateDown: 0, rateUp: 0 }, 2000);
    expect(h.samples[2]?.down).toBe(8 * MB);
  });

  it('forgets throughput samples older than ten minutes', () => {
    const h = new LiveHistory();
    h.ingest({ transfers: [], rateDown: 1, rateUp: 0 }, 0);
    h.ingest({ transfers: [], rateDown: 2, rateUp: 0 }, 11 * 60_000);
    expect(h.samples.map((s) => s.down)).toEqual([2]);
  });
});

/**
 * What the UI remembers from the `transfers` stream beyond its latest snapshot:
 *
 *   snapshot(t) ──> throughput samples (last 10 min, for the chart): the host's rate, or the
 *                   bytes moved since the previous snapshot when that is more
 *               ──> per-request speed (smoothed bytes/s between snapshots, for speed and ETA)
 *               ──> requests that left the live list ──> finished history (newest first, 200)
 *               ──> subrequests seen per live request; the engine drops consumed ones from its
 *                   list, so those are kept here (marked consumed) to draw the whole strip
 *
 * Pure: the caller passes the time, so a test drives it with a fake clock.
 */
import type { EventData, Transfer } from '../../../app/api/contract.js';
import { isUpload } from '../transfer-model.js';

export interface ThroughputSample {
  t: number;
  down: number;
  up: number;
}

export interface FinishedTransfer {
  debugId: number;
  origin: string;
  path: string;
  len: number;
  transferred: number;
  retries: number;
  startMs: number;
  endMs: number;
  error: string | null;
}

export type SubrequestView = Transfer['subrequests'][number];

export interface KnownSubrequest extends SubrequestView {
  /** No longer in the engine's list while its request goes on: collected (or abandoned). */
  consumed: boolean;
}

const KEEP_SUBREQUESTS = 4096;

interface Seen {
  subrequests: Map<number, KnownSubrequest>;
  t: number;
  /** Bytes moved: what the subrequests did (in flight ones included), at least what was collected. */
  moved: number;
  speed: number | null;
  last: Transfer;
}

const KEEP_MS = 10 * 60_000;
const KEEP_FINISHED = 200;
/** Weight of the newest measurement in the smoothed speed. */
const ALPHA = 0.4;

export class LiveHistory {
  readonly samples: ThroughputSample[] = [];
  finished: FinishedTransfer[] = [];
  private readonly seen = new Map<number, Seen>();
  private readonly listeners = new Set<() => void>();
  private lastIngestMs: number | null = null;
  /** Bumped on every change (for useSyncExternalStore). */
  version = 0;

  ingest(update: EventData<'transfers'>, nowMs: number): void {
    const live = new Set<number>();
    // Bytes moved since the last snapshot, by direction (the host's own rate counts a
    // subrequest only once it ends, which lags behind long subrequests).
    const delta = { down: 0, up: 0 };
    const count = (origin: string, bytes: number): void => {
      if (bytes <= 0) return;
      if (isUpload(origin)) delta.up += bytes;
      else delta.down += bytes;
    };
    for (const tr of update.transfers) {
      live.add(tr.debugId);
      const before = this.seen.get(tr.debugId);
      const subrequests = before?.subrequests ?? new Map<number, KnownSubrequest>();
      const present = new Set<number>();
      for (const sr of tr.subrequests) {
        present.add(sr.index);
        subrequests.set(sr.index, { ...sr, consumed: false });
      }
      for (const [index, sr] of subrequests) {
        if (!present.has(index) && !sr.consumed) subrequests.set(index, { ...sr, consumed: true, transferred: sr.error === null ? sr.len : sr.transferred });
      }
      while (subrequests.size > KEEP_SUBREQUESTS) {
        const first = subrequests.keys().next();
        if (first.done === true) break;
        subrequests.delete(first.value);
      }
      let bySubrequests = 0;
      for (const sr of subrequests.values()) bySubrequests += Math.min(sr.len, sr.transferred);
      const moved = Math.min(tr.len, Math.max(tr.transferred, bySubrequests));
      let speed: number | null = null;
      if (before === undefined) {
        const age = nowMs - tr.startMs;
        speed = age > 200 && moved > 0 ? (moved * 1000) / age : null;
      } else {
        const dt = nowMs - before.t;
        if (dt <= 0) speed = before.speed;
        else {
          const instant = (Math.max(0, moved - before.moved) * 1000) / dt;
          speed = before.speed === null ? instant : ALPHA * instant + (1 - ALPHA) * before.speed;
        }
      }
      if (before !== undefined) count(tr.origin, moved - before.moved);
      this.seen.set(tr.debugId, { t: nowMs, moved, speed, last: tr, subrequests });
    }
    const ended: FinishedTransfer[] = [];
    for (const [id, s] of this.seen) {
      if (live.has(id)) continue;
      this.seen.delete(id);
      const tr = s.last;
      if (tr.error === null) count(tr.origin, tr.len - s.moved);
      ended.push({
        debugId: id,
        origin: tr.origin,
        path: tr.path,
        len: tr.len,
        transferred: tr.error === null ? tr.len : tr.transferred,
        retries: tr.retries,
        startMs: tr.startMs,
        endMs: nowMs,
        error: tr.error,
      });
    }
    if (ended.length > 0) this.finished = [...ended.reverse(), ...this.finished].slice(0, KEEP_FINISHED);
    const dt = this.lastIngestMs === null ? null : Math.max(100, nowMs - this.lastIngestMs);
    this.lastIngestMs = nowMs;
    const measuredDown = dt === null ? 0 : (delta.down * 1000) / dt;
    const measuredUp = dt === null ? 0 : (delta.up * 1000) / dt;
    this.samples.push({ t: nowMs, down: Math.max(update.rateDown, measuredDown), up: Math.max(update.rateUp, measuredUp) });
    while (this.samples.length > 0 && (this.samples[0]?.t ?? nowMs) < nowMs - KEEP_MS) this.samples.shift();
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Smoothed bytes a second of a live request, null before there is a measurement. */
  speedOf(debugId: number): number | null {
    return this.seen.get(debugId)?.speed ?? null;
  }

  /** The latest throughput sample, or zeros once nothing came for 3 s. */
  current(nowMs: number): { down: number; up: number } {
    const last = this.samples[this.samples.length - 1];
    return last === undefined || last.t < nowMs - 3000 ? { down: 0, up: 0 } : { down: last.down, up: last.up };
  }

  /** Bytes a live request has moved so far (subrequests in flight included), null if unknown. */
  movedOf(debugId: number): number | null {
    return this.seen.get(debugId)?.moved ?? null;
  }

  /** Every subrequest of a live request seen so far, in file order (consumed ones included). */
  subrequestsOf(debugId: number): KnownSubrequest[] {
    const known = this.seen.get(debugId)?.subrequests;
    if (known === undefined) return [];
    return [...known.values()].sort((a, b) => a.start - b.start || a.index - b.index);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/** Seconds left at `speed`, or null when it cannot be told. */
export function etaSeconds(len: number, transferred: number, speed: number | null): number | null {
  if (speed === null || speed <= 0) return null;
  return Math.max(0, (len - transferred) / speed);
}

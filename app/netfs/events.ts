/**
 * The engine's event stream for the app: coalesced snapshots (the live request list with its
 * subrequests, and the counters), at most one per interval (default 100 ms: 10 a second)
 * however fast the engine runs, each with a sequence number so a slow or reconnecting client
 * can tell what it missed.
 *
 *   trace event ──> dirty ──> (leading edge) emit ──> timer(interval) ──> dirty? emit : stop
 */
import type { EngineContext } from './context.js';
import type { RequestListEntry } from './objects.js';
import type { NetfsStats } from './stats.js';

export interface NetfsSnapshot {
  seq: number;
  timeMs: number;
  requests: RequestListEntry[];
  stats: NetfsStats;
  /** The last trace event included. */
  traceSeq: number;
}

export class NetfsEventStream {
  private readonly listeners = new Set<(s: NetfsSnapshot) => void>();
  private seq = 0;
  private lastTraceSeq = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private unhook: (() => void) | null = null;

  constructor(private readonly ctx: EngineContext, private readonly intervalMs = 100) {}

  subscribe(listener: (s: NetfsSnapshot) => void): () => void {
    this.listeners.add(listener);
    this.unhook ??= this.ctx.trace.onEvent((e) => {
      this.lastTraceSeq = e.seq;
      this.poke();
    });
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The current state, now (for a client that just connected). */
  snapshot(): NetfsSnapshot {
    return {
      seq: this.seq,
      timeMs: Date.now(),
      requests: [...this.ctx.live].map((r) => r.describe()),
      stats: structuredClone(this.ctx.stats),
      traceSeq: this.lastTraceSeq,
    };
  }

  private poke(): void {
    this.dirty = true;
    if (this.timer === null) this.tick();
  }

  private tick(): void {
    if (!this.dirty) {
      this.timer = null;
      return;
    }
    this.dirty = false;
    this.seq++;
    const s = this.snapshot();
    for (const l of this.listeners) l(s);
    this.timer = setTimeout(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    this.unhook?.();
    this.unhook = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * A bounded trace of request and subrequest events (digest §6.4), kept in a ring so a support
 * bundle can show the last few thousand without the engine's memory growing.
 *
 *   netfs_rreq  R=<id> <origin> <event>                       request lifecycle
 *   netfs_sreq  R=<id>[<index>] <source> <event> s=<start> <transferred>/<len> e=<code>
 *   netfs_failure R=<id>[<index>] <source> <kind> <code>: <message>
 *
 * Debug ids are stable for an object's lifetime: every line about it carries the same id.
 */
export type TraceKind = 'rreq' | 'sreq' | 'failure' | 'collect' | 'pacer';

export interface TraceEvent {
  seq: number;
  timeMs: number;
  kind: TraceKind;
  /** Request debug id. */
  rreq: number;
  /** Subrequest index within the request, when the event is about one. */
  sreq?: number;
  /** The event or reason symbol, e.g. SUBMT, TERM, PARTR, RETRY, !TOOM, ABNDN. */
  what: string;
  source?: string;
  start?: number;
  transferred?: number;
  len?: number;
  error?: string;
  note?: string;
}

export class Trace {
  private readonly ring: (TraceEvent | undefined)[];
  private next = 0;
  private seq = 0;
  private readonly listeners = new Set<(e: TraceEvent) => void>();

  constructor(readonly capacity = 4096) {
    this.ring = new Array<TraceEvent | undefined>(capacity);
  }

  add(event: Omit<TraceEvent, 'seq' | 'timeMs'>): void {
    const e: TraceEvent = { seq: ++this.seq, timeMs: Date.now(), ...event };
    this.ring[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    for (const l of this.listeners) l(e);
  }

  /** Events, oldest first; `sinceSeq` keeps only newer ones. */
  events(sinceSeq = 0): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.ring[(this.next + i) % this.capacity];
      if (e !== undefined && e.seq > sinceSeq) out.push(e);
    }
    return out;
  }

  onEvent(listener: (e: TraceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** One line in the kernel's trace style. */
export function formatTraceEvent(e: TraceEvent): string {
  const id = `R=${e.rreq.toString(16).padStart(8, '0')}${e.sreq === undefined ? '' : `[${e.sreq.toString(16)}]`}`;
  const parts = [`netfs_${e.kind}`, id];
  if (e.source !== undefined) parts.push(e.source);
  parts.push(e.what);
  if (e.start !== undefined) parts.push(`s=${e.start.toString(16)}`);
  if (e.len !== undefined) parts.push(`${(e.transferred ?? 0).toString(16)}/${e.len.toString(16)}`);
  if (e.error !== undefined) parts.push(`e=${e.error}`);
  if (e.note !== undefined) parts.push(e.note);
  return parts.join(' ');
}

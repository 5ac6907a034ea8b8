/**
 * The event streams of the contract (app/api EVENTS), as the app service publishes them and
 * every transport (WebSocket, Electron IPC) receives them: whole snapshots, numbered per
 * stream, at most MAX_EVENTS_PER_SECOND per stream to each subscriber.
 *
 *   producer --publish(stream, data)--> latest[stream] = { seq: n+1, data }
 *                                              |
 *            per subscriber, per stream:       v
 *              sent less than MIN_INTERVAL_MS ago, or the consumer is busy? -> timer, then the
 *              newest snapshot (older ones are dropped: coalesced; the seq shows the gap)
 *              else -> deliver now
 *
 *   subscribe(streams) delivers each stream's current snapshot at once (a reconnecting client
 *   catches up with one update per stream, not a replay).
 */
import { performance } from 'node:perf_hooks';
import { EVENTS, MAX_EVENTS_PER_SECOND, type EventData, type EventName, type EventUpdate } from '../api/contract.js';

/**
 * Spacing between two updates of one stream to one subscriber: never 11 in any second, with a
 * margin of 10 % so a receiver's clock and scheduling jitter cannot make it look like 11.
 */
export const MIN_INTERVAL_MS = Math.ceil(1100 / MAX_EVENTS_PER_SECOND);
/** How soon a busy consumer is asked again. */
const BUSY_RETRY_MS = 25;

export interface SubscribeOptions {
  /** False while the consumer cannot take more (a socket with a full send buffer): updates wait, coalesced. */
  ready?: () => boolean;
}

interface StreamState {
  lastSentAt: number;
  sentSeq: number;
  timer: NodeJS.Timeout | null;
}

class Subscription {
  readonly #state = new Map<EventName, StreamState>();
  #closed = false;

  constructor(
    private readonly hub: EventHub,
    streams: readonly EventName[],
    private readonly listener: (u: EventUpdate) => void,
    private readonly ready: () => boolean,
  ) {
    for (const s of new Set(streams)) this.#state.set(s, { lastSentAt: -Infinity, sentSeq: -1, timer: null });
  }

  wants(stream: EventName): boolean {
    return this.#state.has(stream);
  }

  /** A newer snapshot of `stream` is there: deliver it now or when allowed. */
  poke(stream: EventName): void {
    const st = this.#state.get(stream);
    if (st === undefined || this.#closed || st.timer !== null) return;
    const latest = this.hub.latest(stream);
    if (latest === undefined || latest.seq <= st.sentSeq) return;
    const wait = MIN_INTERVAL_MS - (performance.now() - st.lastSentAt);
    if (wait > 0 || !this.ready()) {
      st.timer = setTimeout(
        () => {
          st.timer = null;
          this.poke(stream);
        },
        wait > 0 ? Math.ceil(wait) : BUSY_RETRY_MS,
      );
      st.timer.unref();
      return;
    }
    st.lastSentAt = performance.now();
    st.sentSeq = latest.seq;
    this.listener(latest);
  }

  close(): void {
    this.#closed = true;
    for (const st of this.#state.values()) if (st.timer !== null) clearTimeout(st.timer);
  }
}

export class EventHub {
  readonly #latest = new Map<EventName, EventUpdate>();
  readonly #subs = new Set<Subscription>();
  readonly #onInvalid: (stream: EventName, message: string) => void;

  constructor(onInvalid: (stream: EventName, message: string) => void = () => undefined) {
    this.#onInvalid = onInvalid;
  }

  /** The newest snapshot of `stream`, if any was published. */
  latest<K extends EventName>(stream: K): EventUpdate<K> | undefined {
    return this.#latest.get(stream) as EventUpdate<K> | undefined;
  }

  /** A new snapshot of `stream`; checked against its schema (one that does not match is dropped). */
  publish<K extends EventName>(stream: K, data: EventData<K>): void {
    const checked = EVENTS[stream].safeParse(data);
    if (!checked.success) {
      this.#onInvalid(stream, checked.error.issues[0]?.message ?? 'invalid');
      return;
    }
    const seq = (this.#latest.get(stream)?.seq ?? 0) + 1;
    this.#latest.set(stream, { stream, seq, data: checked.data } as EventUpdate);
    for (const s of this.#subs) if (s.wants(stream)) s.poke(stream);
  }

  subscribe(streams: readonly EventName[], listener: (u: EventUpdate) => void, options: SubscribeOptions = {}): () => void {
    const sub = new Subscription(this, streams, listener, options.ready ?? (() => true));
    this.#subs.add(sub);
    for (const s of new Set(streams)) sub.poke(s);
    return () => {
      sub.close();
      this.#subs.delete(sub);
    };
  }

  close(): void {
    for (const s of this.#subs) s.close();
    this.#subs.clear();
  }
}

/**
 * The latest snapshot of each event stream, checked against the contract on arrival:
 *
 *   raw update, epoch ──checkEvent──> drop if malformed, or if seq <= last seen in this epoch
 *                                     └─> latest[stream] = update ──> listeners of that stream
 *
 * Updates are whole snapshots, so a client that missed some (slow, reconnecting) needs only the
 * newest. A new epoch (a new connection) takes the host's numbering afresh: a restarted host
 * counts from 1 again.
 */
import type { EventName, EventUpdate } from '../../../app/api/contract.js';
import { checkEvent } from '../../../app/api/derive.js';

export class EventHub {
  private readonly latestByStream = new Map<EventName, EventUpdate>();
  private readonly lastSeq = new Map<EventName, { epoch: number; seq: number }>();
  private readonly listeners = new Map<EventName, Set<(u: EventUpdate) => void>>();
  /** Updates dropped: malformed, or older than what was already shown. */
  dropped = 0;

  /** Feeds one raw update (as it came off the transport). Returns whether it was taken. */
  accept(raw: unknown, epoch: number): boolean {
    const update = checkEvent(raw);
    if (update === null) {
      this.dropped++;
      return false;
    }
    const last = this.lastSeq.get(update.stream);
    if (last !== undefined && last.epoch === epoch && update.seq <= last.seq) {
      this.dropped++;
      return false;
    }
    this.lastSeq.set(update.stream, { epoch, seq: update.seq });
    this.latestByStream.set(update.stream, update);
    for (const l of this.listeners.get(update.stream) ?? []) l(update);
    return true;
  }

  latest<K extends EventName>(stream: K): EventUpdate<K> | null {
    return (this.latestByStream.get(stream) as EventUpdate<K> | undefined) ?? null;
  }

  on<K extends EventName>(stream: K, listener: (u: EventUpdate<K>) => void): () => void {
    let set = this.listeners.get(stream);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(stream, set);
    }
    const fn = listener as (u: EventUpdate) => void;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }
}

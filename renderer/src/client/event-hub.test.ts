// The renderer's event hub: every update checked against the contract (checkEvent), only the
// newest snapshot kept, older sequence numbers dropped within a connection, and a new
// connection (epoch) taking the host's numbering afresh (DESIGN §7: catch-up by snapshots).
import { describe, expect, it } from 'vitest';
import { EventHub } from './event-hub.js';

const log = (seq: number, message = `m${seq}`) => ({ stream: 'log', seq, data: { lines: [{ timeMs: seq, level: 'info', message, path: null }] } });

describe('EventHub (issue 7: snapshots with sequence numbers)', () => {
  it('keeps the newest snapshot per stream and tells that stream’s listeners', () => {
    const hub = new EventHub();
    const seen: number[] = [];
    hub.on('log', (u) => seen.push(u.seq));
    expect(hub.accept(log(1), 1)).toBe(true);
    expect(hub.accept(log(2), 1)).toBe(true);
    expect(seen).toEqual([1, 2]);
    expect(hub.latest('log')?.data.lines[0]?.message).toBe('m2');
    expect(hub.latest('transfers')).toBeNull();
  });

  it('drops a stale or repeated sequence number in the same epoch (a missed update is simply skipped)', () => {
    const hub = new EventHub();
    hub.accept(log(5), 1);
    expect(hub.accept(log(5), 1)).toBe(false);
    expect(hub.accept(log(3), 1)).toBe(false);
    expect(hub.accept(log(9), 1)).toBe(true);
    expect(hub.latest('log')?.seq).toBe(9);
    expect(hub.dropped).toBe(2);
  });

  it('a new epoch (reconnect to a restarted host) accepts numbering from 1 again', () => {
    const hub = new EventHub();
    hub.accept(log(40), 1);
    expect(hub.accept(log(1, 'after restart'), 2)).toBe(true);
    expect(hub.latest('log')?.data.lines[0]?.message).toBe('after restart');
  });

  it('drops updates that do not match the contract: unknown stream, bad data, bad seq (M2-style hostile input)', () => {
    const hub = new EventHub();
    expect(hub.accept({ stream: 'nope', seq: 1, data: {} }, 1)).toBe(false);
    expect(hub.accept({ stream: 'log', seq: 1, data: { lines: 'x' } }, 1)).toBe(false);
    expect(hub.accept({ stream: 'log', seq: -1, data: { lines: [] } }, 1)).toBe(false);
    expect(hub.accept('{"stream":"log"}', 1)).toBe(false);
    expect(hub.latest('log')).toBeNull();
  });

  it('an unsubscribed listener hears nothing more', () => {
    const hub = new EventHub();
    let n = 0;
    const off = hub.on('log', () => n++);
    hub.accept(log(1), 1);
    off();
    hub.accept(log(2), 1);
    expect(n).toBe(1);
  });
});

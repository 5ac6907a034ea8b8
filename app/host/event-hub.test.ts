import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_SECOND, type EventUpdate } from '../api/contract.js';
import { EventHub } from './event-hub.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The most updates seen in any window of one second. */
function maxPerSecond(times: readonly number[]): number {
  let best = 0;
  for (let i = 0; i < times.length; i++) {
    let j = i;
    while (j < times.length && (times[j] ?? Infinity) - (times[i] ?? 0) < 1000) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

const line = (n: number) => ({ lines: [{ timeMs: n, level: 'info' as const, message: `line ${n}`, path: null }] });

describe('EventHub: coalesced snapshots, numbered per stream, at most 10 a second', () => {
  it('a producer publishing every millisecond for 2.5 s: each subscriber sees <= 10 updates in any second, the newest last, seq rising', async () => {
    const hub = new EventHub();
    const got: { t: number; u: EventUpdate }[] = [];
    const off = hub.subscribe(['log'], (u) => got.push({ t: performance.now(), u }));
    const end = performance.now() + 2500;
    let n = 0;
    while (performance.now() < end) {
      hub.publish('log', line(++n));
      await sleep(1);
    }
    await sleep(250);
    off();
    expect(n).toBeGreaterThan(500);
    expect(maxPerSecond(got.map((g) => g.t))).toBeLessThanOrEqual(MAX_EVENTS_PER_SECOND);
    // It keeps up (not starved): about 10 a second.
    expect(got.length).toBeGreaterThanOrEqual(20);
    const seqs = got.map((g) => g.u.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    // The last snapshot published is the last one delivered (coalescing drops the middle, never the end).
    expect(got.at(-1)?.u.seq).toBe(n);
    expect((got.at(-1)?.u.data as { lines: { message: string }[] }).lines[0]?.message).toBe(`line ${n}`);
  });

  it('streams are limited separately; a new subscriber gets each stream\'s current snapshot at once', async () => {
    const hub = new EventHub();
    hub.publish('log', line(1));
    hub.publish('cache.occupancy', { summary: null });
    const got: EventUpdate[] = [];
    const off = hub.subscribe(['log', 'cache.occupancy', 'transfers'], (u) => got.push(u));
    expect(got.map((u) => [u.stream, u.seq])).toEqual([
      ['log', 1],
      ['cache.occupancy', 1],
    ]);
    hub.publish('transfers', { transfers: [], rateDown: 0, rateUp: 0 });
    expect(got.at(-1)?.stream).toBe('transfers');
    // Another stream right after: not held back by the first one's limit.
    hub.publish('log', line(2));
    await sleep(150);
    expect(got.filter((u) => u.stream === 'log').map((u) => u.seq)).toEqual([1, 2]);
    off();
  });

  it('a busy consumer (full send buffer) gets nothing until ready, then only the newest snapshot', async () => {
    const hub = new EventHub();
    let ready = false;
    const got: EventUpdate[] = [];
    const off = hub.subscribe(['log'], (u) => got.push(u), { ready: () => ready });
    for (let i = 1; i <= 50; i++) hub.publish('log', line(i));
    await sleep(200);
    expect(got).toEqual([]);
    ready = true;
    await sleep(200);
    expect(got.map((u) => u.seq)).toEqual([50]);
    off();
  });

  it('an update that does not match its stream\'s schema is dropped and reported, never sent', () => {
    const bad: string[] = [];
    const hub = new EventHub((stream) => bad.push(stream));
    const got: EventUpdate[] = [];
    hub.subscribe(['log'], (u) => got.push(u));
    hub.publish('log', { lines: [{ timeMs: 1, level: 'loud', message: 'x', path: null }] } as never);
    expect(bad).toEqual(['log']);
    expect(got).toEqual([]);
    expect(hub.latest('log')).toBeUndefined();
  });

  it('unsubscribe stops delivery, also of an update already waiting for its turn', async () => {
    const hub = new EventHub();
    const got: EventUpdate[] = [];
    const off = hub.subscribe(['log'], (u) => got.push(u));
    hub.publish('log', line(1));
    hub.publish('log', line(2));
    off();
    await sleep(200);
    expect(got.map((u) => u.seq)).toEqual([1]);
  });
});

// The small pure models behind the views: chart buckets, cache grouping and "free up" preview,
// trace lines, counter groups, setting units, capability words, view addresses.
import { describe, expect, it } from 'vitest';
import type { CacheObjectView } from '../../app/api/contract.js';
import { byFolder, folderOf, wouldGo } from './cache-model.js';
import { capabilityLines } from './capability-words.js';
import { bucketSamples, niceCeiling } from './chart-model.js';
import { counterGroups } from './counters.js';
import { viewFromHash } from './routes.js';
import { formatWait, groupRetries, timelineWindow } from './retry-model.js';
import { fromShown, sortedKeys, toShown } from './settings-meta.js';
import { traceLine } from './trace-model.js';

describe('chart-model', () => {
  it('one bucket a second; a gap holds the last value up to 3 s, then 0', () => {
    const s = bucketSamples([{ t: 1500, down: 10, up: 1 }, { t: 1600, down: 30, up: 2 }], 10_000, 10_000);
    expect(s.down).toEqual([0, 30, 30, 30, 30, 0, 0, 0, 0, 0]);
    expect(s.up.slice(0, 3)).toEqual([0, 2, 2]);
  });
  it('axis tops are 1, 2 or 5 × 10^n, at least 1 kB/s', () => {
    expect([0, 1500, 2_000_001, 7_000_000].map(niceCeiling)).toEqual([1000, 2000, 5_000_000, 10_000_000]);
  });
});

describe('cache-model', () => {
  const o = (key: string, storedBytes: number, objectSize: number): CacheObjectView => ({ key, objectSize, content: 'MAP', extents: [], storedBytes, allocatedBytes: storedBytes, atime: 0, inUse: false, kept: false, staging: false, dirty: false });
  it('groups by folder, biggest first', () => {
    expect(folderOf('/a.txt')).toBe('/');
    expect(folderOf('/d/e/f.txt')).toBe('/d/e');
    expect(byFolder([o('/a', 1, 2), o('/d/b', 5, 10), o('/d/c', 5, 10)])).toEqual([
      { folder: '/d', objects: 2, stored: 10, size: 20 },
      { folder: '/', objects: 1, stored: 1, size: 2 },
    ]);
  });
  it('free up N: the cull order’s prefix reaching N, staging objects skipped', () => {
    const c = [
      { key: '/1', bytes: 100, atime: 1, staging: false },
      { key: '/s', bytes: 900, atime: 2, staging: true },
      { key: '/2', bytes: 100, atime: 3, staging: false },
      { key: '/3', bytes: 100, atime: 4, staging: false },
    ];
    expect(wouldGo(c, 150).map((x) => x.key)).toEqual(['/1', '/2']);
    expect(wouldGo(c, 10_000).map((x) => x.key)).toEqual(['/1', '/2', '/3']);
    expect(wouldGo(c, 0)).toEqual([]);
  });
});

describe('trace-model', () => {
  it('reads like the kernel tracepoint', () => {
    expect(traceLine({ seq: 1, timeMs: 0, kind: 'sreq', rreq: 42, sreq: 3, what: 'TERM', source: 'DOWN', start: 8, transferred: 4, len: 4, error: 'TRANSIENT' })).toBe('R=0000002a[3] DOWN TERM s=8 4/4 e=TRANSIENT');
    expect(traceLine({ seq: 1, timeMs: 0, kind: 'pacer', rreq: 1, what: 'WAIT', extra: 5 })).toBe('R=00000001 WAIT extra=5');
  });
});

describe('counters', () => {
  it('flattens one or two levels, loose numbers first', () => {
    expect(counterGroups({ total: 3, Reads: { DR: 1, RA: 2 }, FsCache: { io: { rd: 4 } } })).toEqual([
      ['totals', [['total', 3]]],
      ['Reads', [['DR', 1], ['RA', 2]]],
      ['FsCache', [['io.rd', 4]]],
    ]);
  });
});

describe('settings-meta', () => {
  it('shows settings in people’s units and stores whole numbers', () => {
    expect(toShown('bandwidthDownBytesPerSec', 2_000_000)).toBe('2000');
    expect(fromShown('bandwidthDownBytesPerSec', '1500')).toBe(1_500_000);
    expect(toShown('debounceMs', 1500)).toBe('1.5');
    expect(fromShown('debounceMs', '0,5')).toBe(500);
    expect(fromShown('transfers', 'four')).toBeNull();
    expect(toShown('someNewKey', 7)).toBe('7');
    expect(sortedKeys(['zeta', 'transfers', 'bandwidthUpBytesPerSec', 'alpha'])).toEqual(['bandwidthUpBytesPerSec', 'transfers', 'alpha', 'zeta']);
  });
});

describe('capability-words', () => {
  it('says what a server lacks in plain words', () => {
    const caps = { ranges: false, etags: 'weak' as const, davClasses: ['1'], ifMatchOnPut: false, ifNoneMatchOnPut: true, ifMatchOnDelete: true, folderEtagsPropagate: false, depthInfinity: false, notes: [] };
    const lacks = capabilityLines(caps, 'https://dav.example/').filter((l) => !l.ok).map((l) => l.text);
    expect(lacks).toHaveLength(4);
    expect(lacks[0]).toMatch(/starts again from zero/);
    expect(lacks.join(' ')).toMatch(/could be overwritten/);
    expect(capabilityLines(caps, 'file:///srv/x')).toHaveLength(5);
  });
});

describe('routes', () => {
  it('maps addresses to views, anything else to the overview', () => {
    expect(viewFromHash('#/transfers')).toBe('transfers');
    expect(viewFromHash('#/files/x')).toBe('files');
    expect(viewFromHash('#token=abc')).toBe('overview');
    expect(viewFromHash('')).toBe('overview');
  });
});

describe('retry-model', () => {
  it('groups retries by path, newest group first, skipping what ended before the window', () => {
    const r = (timeMs: number, path: string, waitMs: number, reason = 'BACKOFF') => ({ timeMs, path, waitMs, reason });
    const groups = groupRetries([r(1000, '/a', 500), r(50_000, '/b', 200), r(52_000, '/a', 30_000, 'Retry-After'), r(-200_000, '/old', 10)], 60_000, 120_000);
    expect(groups.map((g) => [g.path, g.retries.length, g.waitedMs, g.lastReason, g.waiting])).toEqual([
      ['/a', 2, 30_500, 'Retry-After', true],
      ['/b', 1, 200, 'BACKOFF', false],
    ]);
    expect([850, 12_400, 125_000].map(formatWait)).toEqual(['850 ms', '12 s', '2 min 5 s']);
    expect(timelineWindow([], 0)).toBe(120_000);
    expect(timelineWindow([r(99_000, '/a', 1)], 100_000)).toBe(30_000);
    expect(timelineWindow([r(0, '/a', 1)], 100_000)).toBe(110_000);
    expect(timelineWindow([r(-1_000_000, '/a', 1)], 100_000)).toBe(120_000);
  });
});

// The inspection API (issue 4 item 8) on a real store: totals, the limit and the thresholds with
// the state, the filesystem's free space, per-object extents over the object size with the in-use,
// kept and staging flags, what culling would take next, recent culls, FS-Cache-style counters;
// all plain JSON (it crosses IPC).
import { statfs } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS } from './thresholds.js';
import { CacheStore } from './store.js';
import { pattern, readRange, tempCacheDir } from './testing.js';

const G = 65536;
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempCacheDir());
});
afterEach(async () => {
  await cleanup();
});

const aux = (size: number, etag = '"e"') => ({ etag, lastModified: 1, size });

describe('inspection', () => {
  it('inspect(), listObjects(), cullCandidates() and the counters describe the cache as it is, in plain JSON', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 40 * G });
    // ALL, whole: released (kept for reuse).
    const all = await store.openObject('/all.bin', aux(3 * G));
    await all.write(0, [pattern(3 * G, 1)]);
    await all.collectWrite(0, 3 * G);
    await all.close();
    // MAP with a hole and a partial granule at EOF; in use.
    const size = 5 * G + 1000;
    const map = await store.openObject('/map.bin', aux(size));
    await map.write(G, [pattern(G, 2)]);
    await map.collectWrite(G, G);
    await map.write(5 * G, [pattern(1000, 3)]);
    await map.collectWrite(5 * G, 1000);
    // Staging, with an uncollected write (DIRTY): in use.
    const st = await store.openObject('/staged.bin', aux(2 * G));
    await st.setStaging(true);
    await st.write(0, [pattern(G, 4)]);
    // A second lookup of an open object, a read, a miss, an adopted one after a re-open.
    await store.openObject('/map.bin', aux(size));
    await readRange(map, G, G);
    await expect(readRange(map, 0, G)).rejects.toMatchObject({ code: 'IO' });

    const s = await store.inspect();
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.state).toBe('normal');
    expect(s.withdrawn).toBeNull();
    expect(s.thresholds).toEqual(DEFAULT_THRESHOLDS);
    // Allocated: /all.bin 3G, /map.bin G + one block at EOF; /staged.bin's G counts apart.
    expect(s.limit).toEqual({ bytes: 40 * G, usedBytes: 3 * G + G + 4096 });
    expect(s.totals).toEqual({ objects: 3, open: 2, kept: 1, allocatedBytes: 3 * G + G + 4096 + G, stagingBytes: G, storedBytes: 3 * G + G + 1000 });
    const fs = await statfs(dir);
    expect(s.fs!.blocks).toBe(fs.blocks);
    expect(s.fs!.freeBlocksPct).toBeCloseTo((100 * fs.bavail) / fs.blocks, 0);
    expect(s.fs!.freeFilesPct).toBeGreaterThan(0);
    expect(s.counters.acquire).toEqual({ n: 4, ok: 4 });
    expect(s.counters.lookups).toEqual({ n: 3, hit: 0, miss: 3, discarded: 0 });
    expect(s.counters.io).toMatchObject({ rd: 1, miss: 1, wr: 4, werr: 0, rerr: 0 });
    expect(s.counters.relinqs.n).toBe(1);
    expect(s.counters.lru.n).toBe(1);

    const objects = store.listObjects();
    expect(JSON.parse(JSON.stringify(objects))).toEqual(objects);
    expect(objects.map((o) => ({ ...o, atime: typeof o.atime }))).toEqual([
      { key: '/all.bin', objectSize: 3 * G, content: 'ALL', extents: [[0, 3 * G]], storedBytes: 3 * G, allocatedBytes: 3 * G, atime: 'number', inUse: false, kept: true, staging: false, dirty: false },
      { key: '/map.bin', objectSize: size, content: 'MAP', extents: [[G, 2 * G], [5 * G, size]], storedBytes: G + 1000, allocatedBytes: G + 4096, atime: 'number', inUse: true, kept: false, staging: false, dirty: false },
      { key: '/staged.bin', objectSize: 2 * G, content: 'NO_DATA', extents: [], storedBytes: 0, allocatedBytes: G, atime: 'number', inUse: true, kept: false, staging: true, dirty: true },
    ]);
    // Only /all.bin can be culled (the others are in use).
    expect(store.cullCandidates(5)).toEqual([{ key: '/all.bin', bytes: 3 * G, atime: objects[0]!.atime, staging: false, kept: true }]);

    // Culled: recorded with its size and reason; counters move.
    expect(await store.cull('/all.bin')).toBe('culled');
    const after = await store.inspect();
    expect(after.recentCulls).toEqual([{ key: '/all.bin', bytes: 3 * G, at: expect.any(Number), why: 'manual' }]);
    expect(after.counters.noSpace.cull).toBe(1);
    expect(after.counters.lru).toMatchObject({ n: 0, drp: 1 });
    expect(after.totals.objects).toBe(2);
    await store.close();

    // After a re-open: closed objects are listed from the index alone; an adopted lookup is a hit.
    const again = await CacheStore.open(dir, { volume: 'acct', limitBytes: 40 * G });
    const listed = again.listObjects();
    expect(listed.find((o) => o.key === '/map.bin')).toMatchObject({ content: 'MAP', extents: [[G, 2 * G], [5 * G, size]], storedBytes: G + 1000, inUse: false, kept: false });
    expect(listed.find((o) => o.key === '/staged.bin')).toMatchObject({ staging: true, dirty: false, storedBytes: 0 });
    await again.openObject('/map.bin', aux(size));
    await again.openObject('/staged.bin', aux(2 * G, '"changed"'));
    expect(again.counters.lookups).toEqual({ n: 2, hit: 1, miss: 1, discarded: 1 });
    expect(again.counters.invals.n).toBe(0); // discarded at lookup, not invalidated while open
    await again.close();
  });
});

// Culling and the user limit on the real disk and a real SQLite index (netfs-digest §4.5 H,
// §5.6, §5.7; behaviours 79-83; issue 4 target "culling keeps the cache at or under the user
// limit at every moment a test samples it").
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheObject } from './object.js';
import { CacheStore } from './store.js';
import { pattern, readRange, sameBytes, tempCacheDir } from './testing.js';

const K = 1024;
const G = 64 * K;
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempCacheDir());
});
afterEach(async () => {
  await cleanup();
});

const aux = (size: number, etag = '"e"') => ({ etag, lastModified: 1, size });
const exists = (p: string) => stat(p).then(() => true, () => false);

/** An object of `granules` granules, written whole and collected; left open. */
async function filled(store: CacheStore, key: string, granules: number, seed = 1): Promise<CacheObject> {
  const obj = await store.openObject(key, aux(granules * G));
  for (let g = 0; g < granules; g++) {
    await obj.write(g * G, [pattern(G, seed + g)]);
    await obj.collectWrite(g * G, G);
  }
  return obj;
}

/** Bytes the filesystem has allocated to the files under objects/ (st_blocks), except `skip`. */
async function diskBytes(skip: ReadonlySet<string> = new Set()): Promise<number> {
  let n = 0;
  const root = join(dir, 'objects');
  for (const a of await readdir(root)) {
    for (const b of await readdir(join(root, a))) {
      for (const f of await readdir(join(root, a, b))) {
        const p = join(root, a, b, f);
        if (skip.has(p) || [...skip].some((s) => p.startsWith(`${s}.tmp`))) continue;
        const st = await stat(p).catch(() => null);
        if (st !== null) n += st.blocks * 512;
      }
    }
  }
  return n;
}

describe('the user limit', () => {
  it('culling keeps the cache at or under the user limit at every moment a test samples it (open and staging objects are never culled; staging ones do not count)', { timeout: 20_000 }, async () => {
    const LIMIT = 1024 * K;
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: LIMIT }); // released objects are kept 10 s: culling ends the keep
    const pinned = await filled(store, '/pinned', 2, 500); // open all along: in use
    const staged = await store.openObject('/staged', aux(8 * G));
    await staged.setStaging(true);
    for (let g = 0; g < 8; g++) {
      await staged.write(g * G, [pattern(G, 900 + g)]);
      await staged.collectWrite(g * G, G);
    }
    const skip = new Set([store.objectFilePath('/staged')]);
    let samples = 0;
    const sample = async (when: string): Promise<void> => {
      const s = await store.inspect();
      expect(s.limit.usedBytes, `${when}: the index's count`).toBeLessThanOrEqual(LIMIT);
      expect(await diskBytes(skip), `${when}: what the disk holds`).toBeLessThanOrEqual(LIMIT);
      samples++;
    };
    const expectedWhole = new Map<string, number>();
    for (let k = 0; k < 40; k++) {
      const granules = 1 + (k % 4);
      const obj = await store.openObject(`/fill/${k}`, aux(granules * G));
      // Every third one is filled backwards (a MAP object: one extent per granule).
      const order = [...Array(granules).keys()];
      if (k % 3 === 2) order.reverse();
      for (const g of order) {
        await obj.write(g * G, [pattern(G, k * 10 + g)]);
        await sample(`/fill/${k} after writing granule ${g}`);
        await obj.collectWrite(g * G, G);
        await sample(`/fill/${k} after collecting granule ${g}`);
      }
      expectedWhole.set(obj.key, granules);
      await obj.close();
    }
    expect(samples).toBe(2 * [...Array(40).keys()].reduce((n, k) => n + 1 + (k % 4), 0));
    const s = await store.inspect();
    expect(s.counters.noSpace.cull).toBeGreaterThan(20);
    expect(s.counters.noSpace.nwr + s.counters.noSpace.ncr).toBe(0); // culling always made room
    expect(s.recentCulls.every((c) => c.why === 'limit')).toBe(true);
    expect(s.totals.stagingBytes).toBe(8 * G);
    expect(s.totals.allocatedBytes).toBe(s.limit.usedBytes + 8 * G);
    // The open one and the staging one were never culled, and hold the right bytes.
    expect(sameBytes(await readRange(pinned, 0, 2 * G), new Uint8Array([...pattern(G, 500), ...pattern(G, 501)]))).toBe(true);
    expect(sameBytes(await readRange(staged, 7 * G, G), pattern(G, 907))).toBe(true);
    // What is left is whole and right; culled objects are gone from the index and the disk.
    let left = 0;
    for (const o of store.listObjects()) {
      if (!o.key.startsWith('/fill/')) continue;
      const k = Number(o.key.slice(6));
      if (o.storedBytes === 0) continue;
      left++;
      expect(o.storedBytes).toBe(expectedWhole.get(o.key)! * G);
      const obj = await store.openObject(o.key, aux(o.objectSize));
      expect(sameBytes(await readRange(obj, 0, G), pattern(G, k * 10))).toBe(true);
      await obj.close();
    }
    expect(left).toBeGreaterThan(0);
    expect((await store.verify()).bad).toEqual([]);
    await store.close();
  });

  it('an object bigger than the limit is cached up to the limit; the writes past it are skipped (counted), nothing open is culled', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 4 * G, keepAliveMs: 0 });
    const other = await filled(store, '/other', 1, 3);
    const big = await store.openObject('/big', aux(8 * G));
    const outcomes: string[] = [];
    for (let g = 0; g < 8; g++) {
      outcomes.push(
        await big.write(g * G, [pattern(G, g)]).then(
          async () => {
            await big.collectWrite(g * G, G);
            return 'ok';
          },
          (e: { code: string }) => e.code,
        ),
      );
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'INSUFFICIENT_STORAGE', 'INSUFFICIENT_STORAGE', 'INSUFFICIENT_STORAGE', 'INSUFFICIENT_STORAGE', 'INSUFFICIENT_STORAGE']);
    const s = await store.inspect();
    expect(s.limit.usedBytes).toBe(4 * G);
    expect(s.counters.noSpace.nwr).toBe(5);
    expect(s.counters.noSpace.cull).toBe(0);
    expect(await big.queryOccupancy(0, 8 * G)).toEqual([{ start: 0, end: 3 * G, type: 'DATA' }]);
    expect(sameBytes(await readRange(other, 0, G), pattern(G, 3))).toBe(true);
    // A smaller limit culls at once what is not in use; open objects stay.
    await other.close();
    expect(await store.setLimit(3 * G)).toBe(1);
    expect((await store.inspect()).recentCulls.map((c) => [c.key, c.bytes, c.why])).toEqual([['/other', G, 'limit']]);
    await expect(store.setLimit(-5)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await store.close();
  });
});

describe('the culler', () => {
  it('79, 80: candidates go oldest atime first; opening updates the atime; an object in use is never culled', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 64 * G, keepAliveMs: 0 });
    const inUse = await filled(store, '/a0', 1); // the oldest, and open all along
    for (const k of [1, 2, 3, 4]) await (await filled(store, `/a${k}`, 1)).close();
    expect(store.cullCandidates(10).map((c) => c.key)).toEqual(['/a1', '/a2', '/a3', '/a4']);
    // (80) Opening /a1 makes it the most recently used.
    const before = store.listObjects().find((o) => o.key === '/a1')!.atime;
    await (await store.openObject('/a1', aux(G))).close();
    expect(store.listObjects().find((o) => o.key === '/a1')!.atime).toBeGreaterThan(before);
    expect(store.cullCandidates(10).map((c) => c.key)).toEqual(['/a2', '/a3', '/a4', '/a1']);
    // Culling down to 3 granules' worth: the two oldest not in use go; /a0 (in use, oldest) stays.
    expect(await store.cullNow(3 * G)).toBe(2);
    expect((await store.inspect()).recentCulls.map((c) => c.key)).toEqual(['/a2', '/a3']);
    expect(await store.cull('/a0')).toBe('busy');
    expect(sameBytes(await readRange(inUse, 0, G), pattern(G, 1))).toBe(true);
    expect(store.counters.cullSkips.busy).toBeGreaterThanOrEqual(1);
    // Everything else culled, /a0 still stays.
    await store.cullNow(0);
    expect(store.listObjects().filter((o) => o.storedBytes > 0).map((o) => o.key)).toEqual(['/a0']);
    await store.close();
  });

  it('79: a recorded candidate whose atime changed since it was recorded is skipped, not culled', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 64 * G, keepAliveMs: 0 });
    for (const k of [1, 2, 3]) await (await filled(store, `/b${k}`, 1)).close();
    expect(await store.cullNow(2 * G)).toBe(1); // fills the table, culls /b1
    const table = [...store.culler.table];
    expect(table.map((r) => r.key)).toEqual(['/b2', '/b3']);
    await (await store.openObject('/b2', aux(G))).close(); // used since it was recorded
    expect(await store.culler.cullOne(table[0]!, 'manual')).toBe('used');
    expect(await store.culler.cullOne(table[1]!, 'manual')).toBe('culled');
    expect(store.counters.cullSkips.used).toBe(1);
    expect(store.listObjects().filter((o) => o.storedBytes > 0).map((o) => o.key)).toEqual(['/b2']);
    await store.close();
  });

  it('81: the candidate table holds 2^12 entries by default (2^12..2^20); it is refilled from the index when down to half', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 64 * G, keepAliveMs: 0 });
    expect(store.culler.tableSize).toBe(4096);
    for (let k = 0; k < 12; k++) {
      const obj = await store.openObject(`/c${k}`, aux(4 * K));
      await obj.write(0, [pattern(4 * K, k)]);
      await obj.collectWrite(0, 4 * K);
      await obj.close();
    }
    const refills = store.culler.refills;
    expect(await store.cullNow(12 * 4 * K - 7 * 4 * K)).toBe(7); // 12 loaded; refilled at 6 left
    expect(store.culler.refills - refills).toBe(2);
    expect(store.culler.table.length).toBe(5);
    await store.close();
    const big = await CacheStore.open(dir, { volume: 'acct', cullTableLog2: 20 });
    expect(big.culler.tableSize).toBe(2 ** 20);
    await big.close();
    for (const bad of [11, 21, 12.5]) await expect(CacheStore.open(dir, { volume: 'acct', cullTableLog2: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('82: a culled object file is unlinked at once (not moved to the graveyard), its temps with it', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 64 * G, keepAliveMs: 0, testPredictableNames: true });
    await (await filled(store, '/d', 2)).close();
    const file = store.objectFilePath('/d');
    expect(await exists(file)).toBe(true);
    expect(await store.cull('/d')).toBe('culled');
    expect(await exists(file)).toBe(false);
    expect(await readdir(join(dir, 'graveyard'))).toEqual([]);
    const s = await store.inspect();
    expect(s.totals.allocatedBytes).toBe(0);
    expect(s.recentCulls).toMatchObject([{ key: '/d', bytes: 2 * G, why: 'manual' }]);
    expect(store.listObjects()).toEqual([]);
    await store.close();
  });

  it('83: a cull of a name that no longer exists is "stale" and ignored', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 64 * G, keepAliveMs: 0 });
    expect(await store.cull('/never')).toBe('stale');
    await (await filled(store, '/e', 1)).close();
    await (await filled(store, '/f', 1)).close();
    expect(await store.cullNow(G)).toBe(1); // records /f in the table
    const recorded = store.culler.table[0]!;
    expect(await store.cull('/f')).toBe('culled');
    expect(await store.cull('/f')).toBe('stale');
    expect(await store.culler.cullOne(recorded, 'manual')).toBe('stale'); // the table's entry is gone too
    // The same key made again is another object: the old record does not reach it.
    await (await filled(store, '/f', 1, 9)).close();
    expect(await store.culler.cullOne(recorded, 'manual')).toBe('stale');
    expect(store.counters.cullSkips.stale).toBe(4);
    expect(store.counters.noSpace.cull).toBe(2);
    await store.close();
  });

  it('§4.5 H: a cull racing a lookup of the same object neither frees it twice nor serves it; two culls of one object cull it once', { timeout: 20_000 }, async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: 1024 * G });
    const seen = { culled: 0, busy: 0, stale: 0, used: 0, adopted: 0, reused: 0, new: 0 };
    for (let i = 0; i < 40; i++) {
      const key = `/race/${i}`;
      const obj = await filled(store, key, 2, i);
      await obj.close(); // kept for reuse (73): the cull must end the keep first
      // Both asked at once, in either order: the key's lock decides who goes first.
      let culled: string;
      let opened: CacheObject;
      if (i % 2 === 0) [culled, opened] = await Promise.all([store.cull(key), store.openObject(key, aux(2 * G))]);
      else [opened, culled] = await Promise.all([store.openObject(key, aux(2 * G)), store.cull(key)]);
      seen[culled as 'culled' | 'busy' | 'stale' | 'used']++;
      const outcome = store.outcomes.at(-1)!.outcome;
      seen[outcome as 'adopted' | 'reused' | 'new']++;
      const o = opened;
      if (culled === 'culled') {
        // The lookup came after: it starts empty, nothing of the culled file is served.
        expect(outcome).toBe('new');
        expect(await o.queryOccupancy(0, 2 * G)).toEqual([]);
        expect(await exists(store.objectFilePath(key))).toBe(false);
      } else {
        // The lookup came first: the object is in use, the cull refused; its bytes are intact.
        expect(culled).toBe('busy');
        expect(sameBytes(await readRange(o, 0, 2 * G), new Uint8Array([...pattern(G, i), ...pattern(G, i + 1)]))).toBe(true);
      }
      await o.close();
      // Two culls at once: one culls, the other finds it gone.
      const both = await Promise.all([store.cull(key), store.cull(key)]);
      expect(both.sort()).toEqual(culled === 'culled' ? ['stale', 'stale'] : ['culled', 'stale']);
    }
    expect(seen.culled + seen.busy).toBe(40);
    expect(seen.culled).toBeGreaterThan(0);
    expect(seen.busy).toBeGreaterThan(0);
    const s = await store.inspect();
    expect(s.counters.noSpace.cull).toBe(40); // each object culled exactly once
    expect(new Set(s.recentCulls.map((c) => c.key)).size).toBe(s.recentCulls.length);
    expect(s.totals.allocatedBytes).toBe(0);
    expect(await readdir(join(dir, 'objects')).then(async (as) => (await Promise.all(as.map(async (a) => (await Promise.all((await readdir(join(dir, 'objects', a))).map((b) => readdir(join(dir, 'objects', a, b))))).flat()))).flat())).toEqual([]);
    await store.close();
  });
});

// F15 for the cache: a REAL small filesystem (tmpfs, size=8m, nr_inodes=200, mounted by this
// test; we run as root) filled through the store. The free-space thresholds (netfs-digest §5.6;
// behaviours 75-78) move the state normal -> culling -> stopped on blocks and on files; below
// stop cache writes are refused (INSUFFICIENT_STORAGE, counted) while reads go on; culling brings
// the state back; a real ENOSPC from the kernel fails one write without withdrawing the cache;
// and nothing is ever half-indexed (verify() and a reopen agree).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { CacheHealth } from './health.js';
import { newCounters, type CacheState } from './inspect.js';
import type { CacheObject } from './object.js';
import { SpaceManager } from './space.js';
import { CacheStore } from './store.js';
import { pattern, readRange, sameBytes } from './testing.js';

const K = 1024;
const G = 64 * K;
const BIG_LIMIT = 1024 * 1024 * 1024; // so that only the filesystem's thresholds matter here
let mnt: string;
let n = 0;

beforeAll(async () => {
  mnt = await mkdtemp(join(tmpdir(), 'netfs-cache-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,nr_inodes=200', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    await rmdir(mnt).catch(() => {});
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`F15 needs a real small filesystem: 'mount -t tmpfs -o size=8m,nr_inodes=200' failed (run the tests as root): ${why}`);
  }
});
afterAll(async () => {
  if (mnt === undefined) return;
  try {
    execFileSync('umount', [mnt], { stdio: 'pipe' });
  } catch {
    // A failed test left a descriptor open: detach the mount now, the kernel frees it later.
    execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  }
  await rmdir(mnt);
});

/** A fresh folder on the tmpfs (the previous test's is removed first, so its space is free). */
async function fresh(): Promise<string> {
  for (const e of await readdir(mnt)) await rm(join(mnt, e), { recursive: true, force: true });
  const dir = join(mnt, `cache-${n++}`);
  await mkdir(dir);
  return dir;
}

const codeOf = (e: unknown): string | null => (isNetfsError(e) ? e.code : null);
const same = sameBytes;

describe('F15: the cache on a real, small tmpfs', () => {
  it('75, 76, F15: filling the blocks moves normal -> culling -> stopped; below stop writes are skipped and counted, reads go on, nothing is half-indexed; culling at the next write brings it back to normal', { timeout: 30_000 }, async () => {
    const dir = await fresh();
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: BIG_LIMIT, keepAliveMs: 0 });
    const SIZE = 4 * G;
    const aux = (k: number) => ({ etag: `"e${k}"`, lastModified: 1, size: SIZE });
    const objs: CacheObject[] = [];
    const held: number[] = []; // granules collected per object
    const states: CacheState[] = [];
    let refused: unknown = null;
    for (let k = 0; refused === null && k < 64; k++) {
      const obj = await store.openObject(`/f${k}`, aux(k));
      objs.push(obj);
      held.push(0);
      for (let g = 0; g < 4; g++) {
        refused = await obj.write(g * G, [pattern(G, k * 4 + g)]).then(
          () => null,
          (e: unknown) => e,
        );
        if (refused !== null) break;
        await obj.collectWrite(g * G, G);
        held[k] = g + 1;
        states.push((await store.inspect()).state);
      }
    }
    expect(codeOf(refused)).toBe('INSUFFICIENT_STORAGE');
    expect((refused as Error).message).toMatch(/below the stop limits/);
    // normal, then culling (nothing can be culled: every object is open), never back in between.
    const firstCulling = states.indexOf('culling');
    expect(firstCulling).toBeGreaterThan(0);
    expect(states.slice(0, firstCulling).every((s) => s === 'normal')).toBe(true);
    expect(states.slice(firstCulling).every((s) => s === 'culling')).toBe(true);
    const stopped = await store.inspect();
    expect(stopped.state).toBe('stopped');
    expect(stopped.fs!.freeBlocksPct).toBeLessThan(5);
    expect(stopped.counters.noSpace.nwr + stopped.counters.noSpace.ncr).toBe(1);
    expect(stopped.counters.noSpace.cull).toBe(0);
    // Below stop: more writes that need space are skipped, each one counted; the refused object is untouched.
    const last = objs.length - 1;
    const lastObj = objs[last]!;
    const before = await lastObj.queryOccupancy(0, SIZE);
    await expect(lastObj.write(held[last]! * G, [pattern(G, 77)])).rejects.toMatchObject({ code: 'INSUFFICIENT_STORAGE' });
    const newcomer = await store.openObject('/newcomer', aux(99));
    await expect(newcomer.write(0, [pattern(G, 78)])).rejects.toMatchObject({ code: 'INSUFFICIENT_STORAGE' });
    const counted = (await store.inspect()).counters.noSpace;
    expect(counted.nwr + counted.ncr).toBe(3);
    expect(counted.ncr).toBeGreaterThanOrEqual(1);
    expect(await lastObj.queryOccupancy(0, SIZE)).toEqual(before);
    expect(lastObj.dirty).toBe(false);
    // Reads go on, with the right bytes.
    for (let k = 0; k < objs.length; k++) {
      for (let g = 0; g < held[k]!; g++) expect(same(await readRange(objs[k]!, g * G, G), pattern(G, k * 4 + g)), `/f${k} granule ${g}`).toBe(true);
    }
    // Nothing half-indexed: every granule on record checks out, index and files agree.
    const report = await store.verify();
    expect(report.bad).toEqual([]);
    expect(report.granules).toBe(held.reduce((a, b) => a + b, 0));
    // Released objects can be culled: the next write that needs space culls (LRU) to the run limit.
    for (const o of objs) await o.close();
    await newcomer.write(0, [pattern(G, 78)]);
    await newcomer.collectWrite(0, G);
    const back = await store.inspect();
    expect(back.state).toBe('normal');
    expect(back.fs!.freeBlocksPct).toBeGreaterThanOrEqual(7);
    const culled = back.recentCulls.map((c) => c.key);
    expect(culled.length).toBeGreaterThan(0);
    expect(culled).toEqual(objs.slice(0, culled.length).map((o) => o.key)); // least recently used first
    expect(back.recentCulls.every((c) => c.why === 'blocks')).toBe(true);
    expect(back.counters.noSpace.cull).toBe(culled.length);
    // Culled objects are never served; the others still are.
    const gone = await store.openObject('/f0', aux(0));
    expect(store.outcomes.at(-1)?.outcome).toBe('new');
    expect(await gone.queryOccupancy(0, SIZE)).toEqual([]);
    const kept = await store.openObject(`/f${culled.length}`, aux(culled.length));
    expect(same(await readRange(kept, 0, G), pattern(G, culled.length * 4))).toBe(true);
    await store.close();
  });

  it('75, 77, F15: filling the files (inodes) moves normal -> culling -> stopped; culling stops only once free files are back at run', { timeout: 30_000 }, async () => {
    const dir = await fresh();
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: BIG_LIMIT, keepAliveMs: 0 });
    const SIZE = 4 * K;
    const aux = { etag: '"t"', lastModified: 1, size: SIZE };
    const objs: CacheObject[] = [];
    const seen = new Set<CacheState>();
    let refused: unknown = null;
    for (let k = 0; refused === null && k < 250; k++) {
      const obj = await store.openObject(`/tiny/${k}`, aux);
      objs.push(obj);
      refused = await obj.write(0, [pattern(SIZE, k)]).then(
        () => null,
        (e: unknown) => e,
      );
      if (refused === null) await obj.collectWrite(0, SIZE);
      seen.add((await store.inspect()).state);
    }
    expect(codeOf(refused)).toBe('INSUFFICIENT_STORAGE');
    expect([...seen]).toEqual(['normal', 'culling', 'stopped']);
    const full = await store.inspect();
    expect(full.fs!.freeFilesPct).toBeLessThan(5);
    expect(full.fs!.freeBlocksPct).toBeGreaterThan(7); // it is the files that ran out
    expect(full.counters.noSpace.ncr).toBe(1); // a creation was refused
    for (let k = 0; k < objs.length - 1; k++) expect(same(await readRange(objs[k]!, 0, SIZE), pattern(SIZE, k)), `/tiny/${k}`).toBe(true);
    expect((await store.verify()).bad).toEqual([]);
    for (const o of objs) await o.close();
    const culled = await store.cullNow();
    const back = await store.inspect();
    expect(culled).toBeGreaterThan(0);
    expect(back.state).toBe('normal');
    expect(back.fs!.ffree).toBeGreaterThanOrEqual(Math.floor(back.fs!.files / 100) * 7); // at/above frun
    expect(back.recentCulls.every((c) => c.why === 'files')).toBe(true);
    expect(back.recentCulls.map((c) => c.key)).toEqual(objs.slice(0, culled).map((o) => o.key));
    await store.close();
  });

  it('F15: a real ENOSPC from the kernel fails that write with INSUFFICIENT_STORAGE; the cache is not withdrawn, reads go on, nothing is half-indexed', { timeout: 30_000 }, async () => {
    const dir = await fresh();
    // Limits at 0/1/2 %: nothing stops the store before the filesystem itself is full.
    const thresholds = { bstop: 0, bcull: 1, brun: 2, fstop: 0, fcull: 1, frun: 2 };
    const store = await CacheStore.open(dir, { volume: 'acct', limitBytes: BIG_LIMIT, keepAliveMs: 0, thresholds });
    // Something else fills the disk, leaving about 640 KiB.
    const fs = await statfs(mnt);
    const filler = join(mnt, 'filler.bin');
    await writeFile(filler, new Uint8Array(Math.max(0, fs.bavail * fs.bsize - 640 * K)));
    const SIZE = 4 * G;
    const aux = (k: number) => ({ etag: `"e${k}"`, lastModified: 1, size: SIZE });
    const objs: CacheObject[] = [];
    const held: number[] = [];
    let failure: unknown = null;
    for (let k = 0; failure === null && k < 32; k++) {
      const obj = await store.openObject(`/r${k}`, aux(k));
      objs.push(obj);
      held.push(0);
      for (let g = 0; g < 4 && failure === null; g++) {
        failure = await obj
          .write(g * G, [pattern(G, k * 4 + g)])
          .then(() => obj.collectWrite(g * G, G))
          .then(
            () => null,
            (e: unknown) => e,
          );
        if (failure === null) held[k] = g + 1;
      }
    }
    expect(codeOf(failure)).toBe('INSUFFICIENT_STORAGE');
    expect((failure as Error).message).toMatch(/ENOSPC|SQLITE_FULL|database or disk is full/);
    const after = await store.inspect();
    expect(after.withdrawn).toBeNull();
    expect(after.state).toBe('stopped');
    expect(after.counters.noSpace.nwr).toBeGreaterThanOrEqual(1);
    for (let k = 0; k < objs.length; k++) {
      for (let g = 0; g < held[k]!; g++) expect(same(await readRange(objs[k]!, g * G, G), pattern(G, k * 4 + g)), `/f${k} granule ${g}`).toBe(true);
    }
    // The disk frees up; after a close and a reopen every object reads right or misses.
    await rm(filler);
    await store.close();
    const again = await CacheStore.open(dir, { volume: 'acct', limitBytes: BIG_LIMIT, keepAliveMs: 0, thresholds });
    const report = await again.verify();
    expect(report.bad).toEqual([]);
    let hits = 0;
    for (let k = 0; k < objs.length; k++) {
      const obj = await again.openObject(`/r${k}`, aux(k));
      for (let g = 0; g < 4; g++) {
        const got = await readRange(obj, g * G, G).catch((e: unknown) => (codeOf(e) === 'IO' ? null : Promise.reject(e)));
        if (got !== null) {
          hits++;
          expect(same(got, pattern(G, k * 4 + g)), `/r${k} granule ${g} after the reopen`).toBe(true);
        }
      }
    }
    expect(hits).toBeGreaterThanOrEqual(held.reduce((a, b) => a + b, 0) - 1);
    expect(again.state).toBe('normal');
    await again.close();
  });

  it('the default user limit is the smaller of 10 GiB and 10 % of the cache filesystem', async () => {
    const small = await CacheStore.open(await fresh(), { volume: 'acct' });
    expect((await small.inspect()).limit.bytes).toBe(Math.floor((8 * 1024 * 1024) / 10));
    await small.close();
    const onDisk = await mkdtemp(join(tmpdir(), 'netfs-cache-limit-'));
    try {
      const big = await CacheStore.open(onDisk, { volume: 'acct' });
      const fs = await statfs(onDisk);
      expect((await big.inspect()).limit.bytes).toBe(Math.min(10 * 1024 ** 3, Math.floor((fs.blocks * fs.bsize) / 10)));
      await big.close();
    } finally {
      await rm(onDisk, { recursive: true, force: true });
    }
  });

  it('78: blocks of cache writes in flight count as used when the next allocation is checked', async () => {
    const dir = await fresh();
    const health = new CacheHealth(dir);
    const counters = newCounters();
    const noCulling = { cullUntil: async () => 0, drainGraveyard: async () => {} };
    const space = await SpaceManager.create(dir, health, counters, noCulling, { thresholds: { bstop: 40, bcull: 50, brun: 60 }, limitBytes: BIG_LIMIT });
    const fs = await statfs(dir);
    const stopBlocks = Math.floor(fs.blocks / 100) * 40;
    // A: leaves the filesystem 50 blocks above stop, while in flight (nothing written yet).
    const aBlocks = fs.bavail - stopBlocks - 50;
    const a = await space.allocate(1, false, aBlocks * fs.bsize, 0);
    expect(space.inflightBlocks).toBe(aBlocks);
    // B would still fit on the disk as statfs sees it, but not beside A's blocks in flight.
    await expect(space.allocate(2, false, 100 * fs.bsize, 0)).rejects.toMatchObject({ code: 'INSUFFICIENT_STORAGE' });
    expect(counters.noSpace.nwr).toBe(1);
    expect(space.state).toBe('stopped');
    a.done();
    expect(space.inflightBlocks).toBe(0);
    const b = await space.allocate(2, false, 100 * fs.bsize, 0);
    b.done();
    expect(space.state).toBe('normal');
  });
});

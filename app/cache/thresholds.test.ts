// cachefilesd's free-space limits (netfs-digest §5.6; behaviours 74-78), as the pure check the
// store runs on real statfs numbers; the numbers below are those of the tmpfs of enospc.test.ts
// (8 MiB = 2048 blocks of 4 KiB, 200 inodes), where the same rules are exercised for real.
import { describe, expect, it } from 'vitest';
import { CacheStore } from './store.js';
import { DEFAULT_THRESHOLDS, mergeThresholds, nextCulling, spaceVerdict, type FsSpace } from './thresholds.js';
import { tempCacheDir } from './testing.js';

const tmpfs = (bavail: number, ffree: number): FsSpace => ({ bsize: 4096, blocks: 2048, bavail, files: 200, ffree });
// Limits in units: blocks 2048 / 100 = 20 per %, files 200 / 100 = 2 per %.
// blocks: stop 20, cull 100, run 140; files: stop 2, cull 10, run 14.

describe('free-space thresholds', () => {
  it('74: defaults are run 7 %, cull 5 %, stop 1 % for blocks and files; a limit breaking 0 <= stop < cull < run < 100 is refused and the old values stay', async () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ brun: 7, bcull: 5, bstop: 1, frun: 7, fcull: 5, fstop: 1 });
    for (const bad of [{ bcull: 7 }, { bcull: 8 }, { bstop: 5 }, { brun: 100 }, { fstop: -1 }, { frun: 5 }, { fcull: 1 }, { fcull: 2.5 }]) {
      expect(() => mergeThresholds(DEFAULT_THRESHOLDS, bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/must be|whole percentage/) }));
    }
    expect(mergeThresholds(DEFAULT_THRESHOLDS, { bstop: 0, bcull: 1, brun: 2 })).toEqual({ brun: 2, bcull: 1, bstop: 0, frun: 7, fcull: 5, fstop: 1 });
    // On the store: refused and unchanged; a good change applies; bad options refuse the open.
    const { dir, cleanup } = await tempCacheDir();
    try {
      const store = await CacheStore.open(dir, { volume: 'acct' });
      expect(() => store.setThresholds({ bcull: 9 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/0 <= bstop < bcull < brun < 100/) }));
      expect((await store.inspect()).thresholds).toEqual(DEFAULT_THRESHOLDS);
      expect(store.setThresholds({ brun: 10, bcull: 7, bstop: 3 })).toEqual({ ...DEFAULT_THRESHOLDS, brun: 10, bcull: 7, bstop: 3 });
      expect((await store.inspect()).thresholds).toMatchObject({ brun: 10, bcull: 7, bstop: 3 });
      await store.close();
      await expect(CacheStore.open(dir, { volume: 'acct', thresholds: { fstop: 5 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(CacheStore.open(dir, { volume: 'acct', limitBytes: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await cleanup();
    }
  });

  it('75: below stop on blocks or on files the allocation is refused and culling is switched on', () => {
    for (const [bavail, ffree] of [
      [19, 200],
      [2048, 1],
    ] as const) {
      const v = spaceVerdict(tmpfs(bavail, ffree), DEFAULT_THRESHOLDS, 0, 0, 0);
      expect(v.level).toBe('stop');
      expect(nextCulling(false, v)).toBe(true);
    }
    // The request itself counts: 30 free blocks, 16 asked -> 14 left, below stop (20).
    expect(spaceVerdict(tmpfs(30, 200), DEFAULT_THRESHOLDS, 0, 16, 0).level).toBe('stop');
    expect(spaceVerdict(tmpfs(2048, 4), DEFAULT_THRESHOLDS, 0, 0, 3).level).toBe('stop');
  });

  it('76: below cull but above stop culling is switched on and the allocation succeeds', () => {
    const v = spaceVerdict(tmpfs(60, 200), DEFAULT_THRESHOLDS, 0, 0, 0);
    expect(v.level).toBe('cull');
    expect(v.short).toBe('blocks');
    expect(nextCulling(false, v)).toBe(true);
    const f = spaceVerdict(tmpfs(2048, 5), DEFAULT_THRESHOLDS, 0, 0, 0);
    expect([f.level, f.short]).toEqual(['cull', 'files']);
  });

  it('77: culling is switched off only when both free blocks and free files are at or above run', () => {
    // Between cull and run: stays as it is.
    expect(nextCulling(true, spaceVerdict(tmpfs(120, 200), DEFAULT_THRESHOLDS, 0, 0, 0))).toBe(true);
    expect(nextCulling(false, spaceVerdict(tmpfs(120, 200), DEFAULT_THRESHOLDS, 0, 0, 0))).toBe(false);
    // Blocks at run, files not: still on.
    expect(nextCulling(true, spaceVerdict(tmpfs(140, 12), DEFAULT_THRESHOLDS, 0, 0, 0))).toBe(true);
    // Both at run: off.
    const v = spaceVerdict(tmpfs(140, 14), DEFAULT_THRESHOLDS, 0, 0, 0);
    expect(v.aboveRun).toBe(true);
    expect(nextCulling(true, v)).toBe(false);
  });

  it('78: blocks of cache writes in flight count as used', () => {
    expect(spaceVerdict(tmpfs(200, 200), DEFAULT_THRESHOLDS, 0, 16, 0).level).toBe('ok');
    expect(spaceVerdict(tmpfs(200, 200), DEFAULT_THRESHOLDS, 90, 16, 0).level).toBe('cull');
    expect(spaceVerdict(tmpfs(200, 200), DEFAULT_THRESHOLDS, 170, 16, 0).level).toBe('stop');
  });
});

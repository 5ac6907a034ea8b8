// Content tracking of one cache object on the real disk and a real SQLite index
// (behaviours 67-72, integrity).
import { open, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { CacheStore } from './store.js';
import { pattern, readRange, tempCacheDir } from './testing.js';

const K = 1024;
const G = 64 * K;
let dir: string;
let cleanup: () => Promise<void>;
let store: CacheStore;

beforeEach(async () => {
  ({ dir, cleanup } = await tempCacheDir());
  store = await CacheStore.open(dir, { volume: 'acct', testPredictableNames: true });
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

const aux = (size: number) => ({ etag: '"e1"', lastModified: 1000, size });

async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

describe('cache object content', () => {
  it('67: the backing size is a whole number of blocks and grows only to the highest block written', async () => {
    const size = 3 * G + 1000;
    const obj = await store.openObject('/a', aux(size));
    await obj.write(0, [pattern(G, 1)]);
    await obj.collectWrite(0, G);
    expect(await fileSize(obj.path)).toBe(G);
    await obj.write(3 * G, [pattern(1000, 2)]); // the EOF tail: padded to its block, not beyond
    expect(await fileSize(obj.path)).toBe(3 * G + 4096);
    await obj.collectWrite(3 * G, 1000);
    expect(obj.backingSize).toBe(3 * G + 4096);
    expect(obj.backingSize % obj.blockSize).toBe(0);
    await expect(obj.write(100, [pattern(4096, 3)])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(obj.write(0, [pattern(1000, 3)])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('68: sequential writes from 0 keep ALL; the first write past the backing end switches to MAP', async () => {
    const obj = await store.openObject('/b', aux(8 * G));
    expect(obj.content).toBe('NO_DATA');
    for (let i = 0; i < 3; i++) {
      await obj.write(i * G, [pattern(G, i)]);
      await obj.collectWrite(i * G, G);
      expect(obj.content).toBe('ALL');
    }
    expect(await obj.queryOccupancy(0, 8 * G)).toEqual([{ start: 0, end: 3 * G, type: 'DATA' }]);
    await obj.write(5 * G, [pattern(G, 5)]);
    await obj.collectWrite(5 * G, G);
    expect(obj.content).toBe('MAP');
    expect(await obj.queryOccupancy(0, 8 * G)).toEqual([
      { start: 0, end: 3 * G, type: 'DATA' },
      { start: 5 * G, end: 6 * G, type: 'DATA' },
    ]);
    // Filling the hole does not go back to ALL; the extent list is in the index.
    await obj.write(3 * G, [pattern(2 * G, 3)]);
    await obj.collectWrite(3 * G, 2 * G);
    expect(obj.content).toBe('MAP');
    expect(obj.committedRanges).toEqual([[0, 6 * G]]);
    expect(await readRange(obj, 5 * G, G)).toEqual(pattern(G, 5));
  });

  it('69: appending after a partial tail block zeroes the junk before the new data counts', async () => {
    const obj = await store.openObject('/c', aux(5000));
    await obj.write(0, [pattern(5000, 1)]);
    await obj.collectWrite(0, 5000);
    // Junk in the tail block past the old EOF (a shared writable mmap could leave it there).
    const fh = await open(obj.path, 'r+');
    await fh.write(new Uint8Array(8192 - 5000).fill(0xee), 0, 8192 - 5000, 5000);
    await fh.close();
    await obj.resize(12288); // the file grew locally
    await obj.write(8192, [pattern(4096, 2)]);
    await obj.collectWrite(8192, 4096);
    expect(obj.content).toBe('ALL');
    const all = await readRange(obj, 0, 12288);
    expect(all.subarray(0, 5000)).toEqual(pattern(5000, 1));
    expect(all.subarray(5000, 8192).every((b) => b === 0)).toBe(true);
    expect(all.subarray(8192)).toEqual(pattern(4096, 2));
  });

  it('70: data written but not collected is invisible to readers', async () => {
    const obj = await store.openObject('/d', aux(2 * G));
    await obj.write(0, [pattern(G, 1)]);
    await obj.collectWrite(0, G);
    await obj.write(G, [pattern(G, 2)]);
    expect(await obj.queryOccupancy(0, 2 * G)).toEqual([{ start: 0, end: G, type: 'DATA' }]);
    await expect(readRange(obj, G, G)).rejects.toMatchObject({ code: 'IO' });
    // An overwrite of collected data hides the old bytes too, until it is collected.
    await obj.write(0, [pattern(G, 3)]);
    expect(await obj.queryOccupancy(0, 2 * G)).toEqual([]);
    await obj.collectWrite(0, 2 * G);
    expect(await readRange(obj, 0, 2 * G)).toEqual(new Uint8Array([...pattern(G, 3), ...pattern(G, 2)]));
  });

  it('occupancy: whole granules only, at most two extents, trimmed inward to blocks except at EOF', async () => {
    const size = 6 * G + 100;
    const obj = await store.openObject('/e', aux(size));
    await obj.write(0, [pattern(G + 8192, 1)]); // one and a bit granules: only the whole one shows
    await obj.collectWrite(0, G + 8192);
    expect(await obj.queryOccupancy(0, size)).toEqual([{ start: 0, end: G, type: 'DATA' }]);
    await obj.write(3 * G, [pattern(G, 2)]);
    await obj.collectWrite(3 * G, G);
    await obj.write(6 * G, [pattern(100, 3)]);
    await obj.collectWrite(6 * G, 100);
    expect(await obj.queryOccupancy(0, size)).toEqual([
      { start: 0, end: G, type: 'DATA' },
      { start: 3 * G, end: 4 * G, type: 'DATA' },
    ]);
    expect(await obj.queryOccupancy(3 * G + 10, size)).toEqual([
      { start: 3 * G + 4096, end: 4 * G, type: 'DATA' },
      { start: 6 * G, end: size, type: 'DATA' },
    ]);
    expect(await obj.queryOccupancy(10, G - 10)).toEqual([{ start: 4096, end: G - 4096, type: 'DATA' }]);
    expect(await readRange(obj, 6 * G, 100)).toEqual(pattern(100, 3));
  });

  it('71: shrinking cuts the backing file to whole blocks and zeroes the tail; to 0 resets to NO_DATA', async () => {
    const obj = await store.openObject('/t', aux(2 * G));
    await obj.write(0, [pattern(2 * G, 1)]);
    await obj.collectWrite(0, 2 * G);
    await obj.resize(G + 5000);
    expect(await fileSize(obj.path)).toBe(G + 8192);
    expect(obj.backingSize).toBe(G + 8192);
    expect(await readRange(obj, G, 5000)).toEqual(pattern(2 * G, 1).subarray(G, G + 5000));
    const raw = await open(obj.path, 'r');
    const tail = new Uint8Array(8192 - 5000);
    await raw.read(tail, 0, tail.length, G + 5000);
    await raw.close();
    expect(tail.every((b) => b === 0)).toBe(true);
    await obj.resize(0);
    expect(obj.content).toBe('NO_DATA');
    expect(await obj.queryOccupancy(0, G)).toEqual([]);
  });

  it('72: invalidation ends in-flight reads as stale and replaces the object with an empty one', async () => {
    const obj = await store.openObject('/f', aux(4 * G));
    await obj.write(0, [pattern(4 * G, 1)]);
    await obj.collectWrite(0, 4 * G);
    const oldPath = obj.path;
    const inflight = readRange(obj, 0, 4 * G);
    const inv = obj.invalidate('upload-failed');
    const err: unknown = await inflight.then(() => null, (e: unknown) => e);
    expect(isNetfsError(err) && err.code === 'IO' && /stale/.test(err.message)).toBe(true);
    await inv;
    expect(obj.content).toBe('NO_DATA');
    expect(obj.invalidations).toEqual(['upload-failed']);
    expect(await obj.queryOccupancy(0, 4 * G)).toEqual([]);
    await expect(stat(oldPath)).rejects.toMatchObject({ code: 'ENOENT' }); // in the graveyard
    await store.drainGraveyard();
    // The object is usable again, under a fresh temp file.
    await obj.write(0, [pattern(G, 9)]);
    await obj.collectWrite(0, G);
    expect(await readRange(obj, 0, G)).toEqual(pattern(G, 9));
  });

  it('a flipped byte in a backing file fails the read with IO and invalidates the object', async () => {
    const obj = await store.openObject('/g', aux(2 * G));
    await obj.write(0, [pattern(2 * G, 1)]);
    await obj.collectWrite(0, 2 * G);
    const fh = await open(obj.path, 'r+');
    const one = new Uint8Array(1);
    await fh.read(one, 0, 1, G + 77);
    one[0] = one[0]! ^ 0x01;
    await fh.write(one, 0, 1, G + 77);
    await fh.close();
    expect(await readRange(obj, 0, G)).toEqual(pattern(G, 1)); // the other granule is intact
    await expect(readRange(obj, G, G)).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/cache data corrupt/) });
    expect(obj.invalidations).toEqual(['corrupt']);
    expect(obj.content).toBe('NO_DATA');
    expect(await obj.queryOccupancy(0, 2 * G)).toEqual([]);
  });

  it('collectWrite of a range that was not written is refused', async () => {
    const obj = await store.openObject('/h', aux(2 * G));
    await expect(obj.collectWrite(0, G)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

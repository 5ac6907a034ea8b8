// A cookie released by its last user keeps its backing resources (here: the backing file's open
// descriptor) for 10 s and reuses them if it is looked up again within that window (netfs-digest
// §5.1 "unuse": the cookie goes on an LRU, its resources are discarded after 10 seconds;
// behaviour 73). Descriptors are read from /proc/self/fd, so what is checked is the real thing.
import { readdir, readlink } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_MS, CacheStore } from './store.js';
import { pattern, readRange, sameBytes, tempCacheDir } from './testing.js';

const G = 65536;
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempCacheDir());
});
afterEach(async () => {
  await cleanup();
});

const aux = { etag: '"e"', lastModified: 1, size: 2 * G };

/** The descriptors of this process open on `path`. */
async function fdsOn(path: string): Promise<string[]> {
  const out: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target === path) out.push(fd);
  }
  return out;
}

async function committed(store: CacheStore, key: string) {
  const obj = await store.openObject(key, aux);
  await obj.write(0, [pattern(2 * G, 1)]);
  await obj.collectWrite(0, 2 * G);
  return obj;
}

describe('73: released cookies are kept for reuse', () => {
  it('73: a released object keeps its descriptor (10 s by default) and a lookup within the window reuses it', async () => {
    expect(KEEP_ALIVE_MS).toBe(10_000);
    const store = await CacheStore.open(dir, { volume: 'acct' });
    const first = await committed(store, '/k');
    const path = store.objectFilePath('/k');
    const fds = await fdsOn(path);
    expect(fds).toHaveLength(1);
    await first.close();
    // Released, committed, and still open.
    expect(await fdsOn(path)).toEqual(fds);
    let s = await store.inspect();
    expect(s.counters.lru).toMatchObject({ n: 1, rmv: 0 });
    expect(s.totals).toMatchObject({ open: 0, kept: 1 });
    expect(store.listObjects()[0]).toMatchObject({ key: '/k', inUse: false, kept: true });
    // Looked up again: the same descriptor serves a new object; the old reference stays closed.
    const again = await store.openObject('/k', aux);
    expect(store.outcomes.at(-1)?.outcome).toBe('reused');
    expect(again).not.toBe(first);
    expect(await fdsOn(path)).toEqual(fds);
    expect(sameBytes(await readRange(again, 0, 2 * G), pattern(2 * G, 1))).toBe(true);
    await expect(readRange(first, 0, G)).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/closed/) });
    s = await store.inspect();
    expect(s.counters.lru).toMatchObject({ n: 0, rmv: 1, exp: 0 });
    // A store that closes drops what it keeps: the descriptor goes.
    await again.close();
    await store.close();
    expect(await fdsOn(path)).toEqual([]);
  });

  it('73: after the keep-alive window the descriptor closes and the next lookup adopts the object from the index', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', keepAliveMs: 150 });
    const obj = await committed(store, '/k');
    const path = store.objectFilePath('/k');
    await obj.close();
    expect(await fdsOn(path)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(await fdsOn(path)).toEqual([]);
    expect(store.counters.lru).toMatchObject({ n: 0, exp: 1 });
    const again = await store.openObject('/k', aux);
    expect(store.outcomes.at(-1)?.outcome).toBe('adopted');
    expect(sameBytes(await readRange(again, G, G), pattern(2 * G, 1).subarray(G))).toBe(true);
    await store.close();
  });

  it('73, 64: a kept object whose remote file changed is discarded at the lookup; its descriptor is closed', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct' });
    const obj = await committed(store, '/k');
    const path = store.objectFilePath('/k');
    await obj.close();
    const changed = await store.openObject('/k', { ...aux, etag: '"e2"' });
    expect(store.outcomes.at(-1)?.outcome).toBe('stale-aux');
    expect(await changed.queryOccupancy(0, 2 * G)).toEqual([]);
    expect(await fdsOn(path)).toEqual([]);
    await store.close();
  });

  it('0 ms keeps nothing: the last close releases the descriptor at once', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', keepAliveMs: 0 });
    const obj = await committed(store, '/k');
    await obj.close();
    expect(await fdsOn(store.objectFilePath('/k'))).toEqual([]);
    expect(store.counters.lru.n).toBe(0);
    await store.close();
  });
});

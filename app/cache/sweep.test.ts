// C8 for the cache (test-scenarios.md): a store opened over what a crash (and worse) left behind -
// leftover temp files, orphan backing files no row names, rows without files, a DIRTY object, a
// short file, junk in the objects folder - cleans it, never serves any of it, and afterwards the
// index and the store agree. And verify(): every granule's CRC re-checked, bad objects invalidated.
import Database from 'better-sqlite3';
import { mkdir, open, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectPath } from './layout.js';
import { CacheStore } from './store.js';
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
const exists = (p: string) => stat(p).then(() => true, () => false);

async function commit(store: CacheStore, key: string, seed: number): Promise<void> {
  const obj = await store.openObject(key, aux);
  await obj.write(0, [pattern(2 * G, seed)]);
  await obj.collectWrite(0, 2 * G);
  await obj.close();
}

/** Every file under objects/ (names only). */
async function objectFiles(): Promise<string[]> {
  const out: string[] = [];
  const root = join(dir, 'objects');
  for (const a of await readdir(root)) for (const b of await readdir(join(root, a))) for (const f of await readdir(join(root, a, b))) out.push(f);
  return out.sort();
}

/** The index and the store agree: each row's file is there (and not short), each file has its row (`besides`: names let be). */
async function expectAgreement(besides: readonly string[] = []): Promise<void> {
  const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
  const rows = db.prepare('SELECT key, name, has_file, backing_size, dirty FROM objects').all() as { key: string; name: string; has_file: number; backing_size: number; dirty: number }[];
  db.close();
  const files = await objectFiles();
  for (const r of rows) {
    if (r.has_file !== 1) continue;
    const st = await stat(objectPath(dir, r.name)).catch(() => null);
    expect(st, `${r.key}: its file is missing`).not.toBeNull();
    expect(st!.size, `${r.key}: its file is short`).toBeGreaterThanOrEqual(r.backing_size);
  }
  const named = new Set(rows.filter((r) => r.has_file === 1).map((r) => r.name));
  for (const f of files) if (!besides.includes(f)) expect(named.has(f), `${f}: no row names it`).toBe(true);
}

describe('C8: the store cleans what a crash left at start', () => {
  it('C8: leftover temps, orphan files, rows without files, DIRTY and short objects are cleaned at open, never served; index and store agree', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', testPredictableNames: true });
    const other = await CacheStore.open(dir, { volume: 'other', testPredictableNames: true });
    for (const [key, seed] of [
      ['/ok', 1],
      ['/dirty', 2],
      ['/missing', 3],
      ['/short', 4],
    ] as const)
      await commit(store, key, seed);
    await commit(other, '/theirs', 5);
    // Another volume's temp of an object not yet committed: theirs, left alone by our sweep.
    const theirs = await other.openObject('/theirs-new', aux);
    await theirs.write(0, [pattern(G, 6)]);
    const theirTemp = other.tempFilePath('/theirs-new');
    // Crash while /dirty is being rewritten and /temp-only is being created.
    const dirty = await store.openObject('/dirty', aux);
    await dirty.write(0, [pattern(G, 7)]);
    const tempOnly = await store.openObject('/temp-only', aux);
    await tempOnly.write(0, [pattern(G, 8)]);
    const leftoverTemp = store.tempFilePath('/temp-only');
    const paths = Object.fromEntries(['/ok', '/dirty', '/missing', '/short'].map((k) => [k, store.objectFilePath(k)]));
    await store.abandonForTesting();
    await other.abandonForTesting();
    // Worse than a crash: a file deleted under the index, one cut short, an orphan, junk.
    await rm(paths['/missing']!);
    await truncate(paths['/short']!, 4096);
    const orphanName = 'ab'.repeat(32);
    const orphan = join(dir, 'objects', 'ab', 'ab', orphanName);
    await mkdir(join(dir, 'objects', 'ab', 'ab'), { recursive: true });
    await writeFile(orphan, pattern(G, 9));
    await writeFile(join(dir, 'objects', 'README'), 'junk');
    await mkdir(join(dir, 'objects', 'zz', 'not-hex'), { recursive: true });
    await mkdir(join(dir, 'objects', 'ab', 'ab', 'a-folder'));
    expect(await exists(leftoverTemp)).toBe(true);

    const again = await CacheStore.open(dir, { volume: 'acct' });
    await again.drainGraveyard();
    expect(await exists(leftoverTemp)).toBe(false);
    expect(await exists(orphan)).toBe(false);
    expect(await exists(join(dir, 'objects', 'README'))).toBe(false);
    expect(await exists(join(dir, 'objects', 'zz'))).toBe(false);
    expect(await exists(join(dir, 'objects', 'ab', 'ab', 'a-folder'))).toBe(false);
    expect(await exists(paths['/dirty']!)).toBe(false); // the crash leftover's file went at once
    expect(await exists(paths['/short']!)).toBe(false); // a short file is never adopted
    expect(await exists(theirTemp)).toBe(true); // another volume's temp is not ours to sweep
    expect(await readdir(join(dir, 'graveyard'))).toEqual([]);
    await expectAgreement([basename(theirTemp)]);
    // Nothing of it is served.
    const outcomes: Record<string, string> = {};
    for (const key of ['/ok', '/dirty', '/missing', '/short', '/temp-only']) {
      const obj = await again.openObject(key, aux);
      outcomes[key] = again.outcomes.at(-1)!.outcome;
      if (key === '/ok') expect(sameBytes(await readRange(obj, 0, 2 * G), pattern(2 * G, 1))).toBe(true);
      else expect(await obj.queryOccupancy(0, 2 * G), key).toEqual([]);
      await obj.close();
    }
    expect(outcomes).toEqual({ '/ok': 'adopted', '/dirty': 'dirty', '/missing': 'new', '/short': 'new', '/temp-only': 'dirty' });
    await again.drainGraveyard();
    await expectAgreement([basename(theirTemp)]);
    expect((await again.verify()).bad).toEqual([]);
    await again.close();
    // The other volume still has its object.
    const theirStore = await CacheStore.open(dir, { volume: 'other' });
    const t = await theirStore.openObject('/theirs', aux);
    expect(sameBytes(await readRange(t, 0, 2 * G), pattern(2 * G, 5))).toBe(true);
    await theirStore.close();
  });

  it('verify(): a flipped byte in a closed or an open object is found and that object invalidated; orphans go; an open object\'s temp stays', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', keepAliveMs: 0, testPredictableNames: true });
    await commit(store, '/closed', 1);
    await commit(store, '/fine', 2);
    const live = await store.openObject('/open', aux);
    await live.write(0, [pattern(2 * G, 3)]);
    await live.collectWrite(0, 2 * G);
    const writing = await store.openObject('/writing', aux);
    await writing.write(0, [pattern(G, 4)]); // a temp file, not collected yet
    for (const [key, at] of [
      ['/closed', G + 5],
      ['/open', 17],
    ] as const) {
      const fh = await open(store.objectFilePath(key), 'r+');
      const b = new Uint8Array(1);
      await fh.read(b, 0, 1, at);
      b[0] = b[0]! ^ 0x40;
      await fh.write(b, 0, 1, at);
      await fh.close();
    }
    await mkdir(join(dir, 'objects', 'cd', 'cd'), { recursive: true });
    await writeFile(join(dir, 'objects', 'cd', 'cd', 'cd'.repeat(32)), 'orphan');
    const report = await store.verify();
    expect(report.bad.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: '/closed', reason: expect.stringMatching(/crc mismatch in granule 1/) },
      { key: '/open', reason: expect.stringMatching(/crc mismatch in granule 0/) },
    ]);
    expect(report.objects).toBe(4);
    expect(report.granules).toBe(2 + 2 + 1); // /fine whole, /closed up to the bad one, /open's first
    expect(report.orphans).toBe(1);
    expect(live.invalidations).toEqual(['corrupt']);
    expect(await live.queryOccupancy(0, 2 * G)).toEqual([]);
    expect(await exists(store.tempFilePath('/writing'))).toBe(true);
    const closed = await store.openObject('/closed', aux);
    expect(await closed.queryOccupancy(0, 2 * G)).toEqual([]);
    const fine = await store.openObject('/fine', aux);
    expect(sameBytes(await readRange(fine, 0, 2 * G), pattern(2 * G, 2))).toBe(true);
    expect(store.counters.invals.n).toBe(2);
    // A second pass finds nothing more.
    expect((await store.verify()).bad).toEqual([]);
    await store.close();
  });

  it('C8: after a clean close the next open skips the sweep (the index and the store agree); after a crash it sweeps', async () => {
    const orphan = join(dir, 'objects', 'ab', 'ab', 'ab'.repeat(32));
    const first = await CacheStore.open(dir, { volume: 'acct' });
    await commit(first, '/kept', 1);
    await first.close();
    // Dropped in by hand between a clean close and the next open: not looked for at open.
    await mkdir(join(orphan, '..'), { recursive: true });
    await writeFile(orphan, 'orphan');
    const second = await CacheStore.open(dir, { volume: 'acct' });
    expect(await exists(orphan)).toBe(true);
    const kept = await second.openObject('/kept', aux);
    expect(sameBytes(await readRange(kept, 0, 2 * G), pattern(2 * G, 1))).toBe(true);
    await kept.close();
    // verify() sweeps on demand.
    expect((await second.verify()).orphans).toBe(1);
    expect(await exists(orphan)).toBe(false);
    await writeFile(orphan, 'orphan again');
    await second.abandonForTesting();
    const third = await CacheStore.open(dir, { volume: 'acct' });
    await third.drainGraveyard();
    expect(await exists(orphan)).toBe(false);
    await third.close();
  });
});

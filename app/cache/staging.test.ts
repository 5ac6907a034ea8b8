// Staging of synced downloads (cache issue item 7, DESIGN §6): a whole staged object becomes the
// synced file by rename on the same filesystem (one write of the data), by copy on another one
// (a real tmpfs), with the server's mtime; the destination is never touched on error; a staging
// object left DIRTY by a crash keeps its collected ranges (resume) while others are discarded (65).
// The engine side (engine.stage, a SIGKILLed download resuming) is app/netfs/stage.test.ts.
import Database from 'better-sqlite3';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canMount, mountTmpfs, unmount } from '../remote/local/test-kit.js';
import type { CacheObject } from './object.js';
import { beginStaging, cancelStaging, PARTIAL_PREFIX, placeFile, placeStaged } from './staging.js';
import { CacheStore } from './store.js';
import { pattern, readRange, tempCacheDir } from './testing.js';

const G = 65536;
const SIZE = 5 * G + 1234;
const AUX = { etag: '"s1"', lastModified: 1_700_000_000_000, size: SIZE };
const MTIME = Date.UTC(2024, 1, 29, 12, 34, 56);
const MOUNT_OK = canMount();
let dir: string;
let cleanup: () => Promise<void>;
let sync: string;
let store: CacheStore;

beforeEach(async () => {
  ({ dir, cleanup } = await tempCacheDir());
  sync = await mkdtemp(join(tmpdir(), 'netfs-syncdir-'));
  store = await CacheStore.open(join(dir, 'cache'), { volume: 'acct' });
});
afterEach(async () => {
  await store.close();
  await cleanup();
  await rm(sync, { recursive: true, force: true });
});

const data = pattern(SIZE, 3);

/** Fills [from, to) of the object with the server's bytes, collected. */
async function fill(obj: CacheObject, from = 0, to = SIZE): Promise<void> {
  await obj.write(from, [data.subarray(from, to)]);
  await obj.collectWrite(from, to - from);
}

function row(key: string): { staging: number; dirty: number } | undefined {
  const db = new Database(join(dir, 'cache', 'index.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT staging, dirty FROM objects WHERE key = ?').get(key) as { staging: number; dirty: number } | undefined;
  } finally {
    db.close();
  }
}

const code = (p: Promise<unknown>) => p.then(() => null, (e: { code?: string }) => e.code ?? String(e));

describe('placing a staged download (item 7)', () => {
  it('same filesystem: the backing file is renamed onto the synced file (same inode), cut to size, with the server mtime; the row is dropped', async () => {
    const obj = await beginStaging(store, '/docs/a.bin', AUX);
    expect(obj.staging).toBe(true);
    expect(row('/docs/a.bin')).toMatchObject({ staging: 1 });
    await fill(obj);
    const backing = obj.path;
    const ino = (await stat(backing)).ino;
    expect((await stat(backing)).size % 4096).toBe(0);
    const dest = join(sync, 'a.bin');
    await writeFile(dest, 'the old version');
    const out = await placeStaged(obj, dest, { mtimeMs: MTIME });
    expect(out).toEqual({ how: 'rename', dest });
    const st = await stat(dest);
    expect(st.ino).toBe(ino); // the data was written once, into the cache object
    expect(st.size).toBe(SIZE);
    expect(st.mtimeMs).toBe(MTIME);
    expect(st.mode & 0o777).toBe(0o644);
    expect(Buffer.from(await readFile(dest)).equals(Buffer.from(data))).toBe(true);
    // Nothing of it is left in the cache: no file, no row; the object is closed.
    await expect(stat(backing)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(row('/docs/a.bin')).toBeUndefined();
    await expect(obj.queryOccupancy(0, SIZE)).rejects.toMatchObject({ code: 'IO' });
    const again = await store.openObject('/docs/a.bin', AUX);
    expect(store.outcomes.at(-1)?.outcome).toBe('new');
    expect(await again.queryOccupancy(0, SIZE)).toEqual([]);
    expect(await readdir(sync)).toEqual(['a.bin']);
  });

  it('an empty file is placed too', async () => {
    const obj = await beginStaging(store, '/empty', { etag: '"e"', lastModified: 1, size: 0 });
    const dest = join(sync, 'empty');
    expect((await placeStaged(obj, dest, { mtimeMs: MTIME })).how).toBe('rename');
    expect((await stat(dest)).size).toBe(0);
    expect((await stat(dest)).mtimeMs).toBe(MTIME);
    expect(row('/empty')).toBeUndefined();
  });

  it('the destination is never touched on error, and the object stays whole and staging for another try', async () => {
    const obj = await beginStaging(store, '/b', AUX);
    const dest = join(sync, 'b.txt');
    await writeFile(dest, 'keep me');
    // Not whole yet: refused before anything moves.
    await fill(obj, 0, 2 * G);
    expect(await code(placeStaged(obj, dest, { mtimeMs: MTIME }))).toBe('INVALID_ARGUMENT');
    await fill(obj, 2 * G, SIZE);
    // A folder where the file goes, and a missing folder: refused by the rename itself.
    const asDir = join(sync, 'dir');
    await mkdir(join(asDir, 'child'), { recursive: true });
    expect(await code(placeStaged(obj, asDir, { mtimeMs: MTIME }))).toBe('CONFLICT');
    expect(await code(placeStaged(obj, join(sync, 'missing', 'b.txt'), { mtimeMs: MTIME }))).toBe('NOT_FOUND');
    // A second user of the object: refused (the file must not move under a reader).
    const other = await store.openObject('/b', AUX);
    expect(await code(placeStaged(obj, dest, { mtimeMs: MTIME }))).toBe('CONFLICT');
    await other.close();
    expect(await readFile(dest, 'utf8')).toBe('keep me');
    expect((await readdir(sync)).sort()).toEqual(['b.txt', 'dir']);
    // Still whole, still staging, still served; the backing file got its whole last block back.
    expect(obj.staging).toBe(true);
    expect((await stat(obj.path)).size).toBe(Math.ceil(SIZE / 4096) * 4096);
    expect(Buffer.from(await readRange(obj, 0, SIZE)).equals(Buffer.from(data))).toBe(true);
    expect((await placeStaged(obj, dest, { mtimeMs: MTIME })).how).toBe('rename');
    expect(Buffer.from(await readFile(dest)).equals(Buffer.from(data))).toBe(true);
  });

  it.skipIf(!MOUNT_OK)('another filesystem (EXDEV, a real tmpfs): copied under .netfs-partial-*, fsynced, renamed; the cache keeps its own copy', async () => {
    const mnt = join(sync, 'mnt');
    await mkdir(mnt);
    mountTmpfs(mnt, 'size=4m');
    try {
      const obj = await beginStaging(store, '/c', AUX);
      await fill(obj);
      const dest = join(mnt, 'c.bin');
      await writeFile(dest, 'old');
      const out = await placeStaged(obj, dest, { mtimeMs: MTIME });
      expect(out.how).toBe('copy');
      expect(Buffer.from(await readFile(dest)).equals(Buffer.from(data))).toBe(true);
      expect((await stat(dest)).mtimeMs).toBe(MTIME);
      expect((await stat(dest)).mode & 0o777).toBe(0o644);
      expect(await readdir(mnt)).toEqual(['c.bin']);
      // The cache's copy is separate from the user's file: still whole, no longer staging.
      expect(obj.staging).toBe(false);
      expect(row('/c')).toMatchObject({ staging: 0 });
      expect((await stat(obj.path)).ino).not.toBe((await stat(dest)).ino);
      expect(Buffer.from(await readRange(obj, 0, SIZE)).equals(Buffer.from(data))).toBe(true);
      expect((await stat(obj.path)).mode & 0o777).toBe(0o600);
    } finally {
      unmount(mnt);
    }
  });

  it.skipIf(!MOUNT_OK)('F15: no space for the copy on the other filesystem: the old file stays, no partial is left, the object is still staged', async () => {
    const mnt = join(sync, 'small');
    await mkdir(mnt);
    mountTmpfs(mnt, 'size=128k');
    try {
      const obj = await beginStaging(store, '/d', AUX);
      await fill(obj);
      const dest = join(mnt, 'd.bin');
      await writeFile(dest, 'old bytes');
      expect(await code(placeStaged(obj, dest, { mtimeMs: MTIME }))).toBe('INSUFFICIENT_STORAGE');
      expect(await readFile(dest, 'utf8')).toBe('old bytes');
      expect((await readdir(mnt)).filter((n) => n.startsWith(PARTIAL_PREFIX))).toEqual([]);
      expect(obj.staging).toBe(true);
      expect(Buffer.from(await readRange(obj, 0, SIZE)).equals(Buffer.from(data))).toBe(true);
    } finally {
      unmount(mnt);
    }
  });

  it('cancelStaging drops the content and the staging mark', async () => {
    const obj = await beginStaging(store, '/e', AUX);
    await fill(obj, 0, 2 * G);
    await cancelStaging(obj);
    expect(obj.staging).toBe(false);
    expect(row('/e')).toMatchObject({ staging: 0 });
    expect(await obj.queryOccupancy(0, SIZE)).toEqual([]);
  });
});

describe('a crash during staging (resume)', () => {
  it('65 + item 7: a staging object left DIRTY by a crash keeps its collected ranges; a plain one is discarded', async () => {
    const staged = await beginStaging(store, '/staged', AUX);
    const plain = await store.openObject('/plain', AUX);
    for (const obj of [staged, plain]) {
      await fill(obj, 0, 2 * G);
      await obj.write(2 * G, [data.subarray(2 * G, 3 * G)]); // in flight when the process dies
    }
    expect(row('/staged')).toEqual({ staging: 1, dirty: 1 });
    expect(row('/plain')).toEqual({ staging: 0, dirty: 1 });
    await store.abandonForTesting();
    store = await CacheStore.open(join(dir, 'cache'), { volume: 'acct' });
    const resumed = await store.openObject('/staged', AUX);
    const discarded = await store.openObject('/plain', AUX);
    expect(store.outcomes).toEqual([
      { key: '/staged', outcome: 'resumed' },
      { key: '/plain', outcome: 'dirty' },
    ]);
    expect(resumed.staging).toBe(true);
    expect(await resumed.queryOccupancy(0, SIZE)).toEqual([{ start: 0, end: 2 * G, type: 'DATA' }]);
    expect(Buffer.from(await readRange(resumed, 0, 2 * G)).equals(Buffer.from(data.subarray(0, 2 * G)))).toBe(true);
    expect(await discarded.queryOccupancy(0, SIZE)).toEqual([]);
    // The rest arrives; the whole file is placed.
    await fill(resumed, 2 * G, SIZE);
    const dest = join(sync, 'staged.bin');
    await placeStaged(resumed, dest, { mtimeMs: MTIME });
    expect(Buffer.from(await readFile(dest)).equals(Buffer.from(data))).toBe(true);
  });

  it('a staging object whose remote changed is discarded all the same (64)', async () => {
    const obj = await beginStaging(store, '/changed', AUX);
    await fill(obj, 0, 2 * G);
    await obj.write(2 * G, [data.subarray(2 * G, 3 * G)]);
    await store.abandonForTesting();
    store = await CacheStore.open(join(dir, 'cache'), { volume: 'acct' });
    const again = await store.openObject('/changed', { ...AUX, etag: '"s2"' });
    expect(store.outcomes).toEqual([{ key: '/changed', outcome: 'stale-aux' }]);
    expect(await again.queryOccupancy(0, SIZE)).toEqual([]);
  });
});

describe('small downloads staged without an object (item 7, DESIGN §6)', () => {
  it('smallStagingTemp: a temp name in the cache\'s staging folder, no index row; null once the key has an object', async () => {
    const temp = await store.smallStagingTemp('/small.txt');
    expect(temp).not.toBeNull();
    expect(dirname(temp!)).toBe(join(dir, 'cache', 'staging', 'acct'));
    expect(basename(temp!)).toMatch(/^[0-9a-f]{16}\.tmp$/);
    expect(row('/small.txt')).toBeUndefined();
    // Cached bytes or an earlier staged download: the caller stages through the object.
    const obj = await beginStaging(store, '/small.txt', AUX);
    expect(await store.smallStagingTemp('/small.txt')).toBeNull();
    await obj.close();
    expect(await store.smallStagingTemp('/small.txt')).toBeNull();
  });

  it('placeFile renames the whole file onto the synced name; 64 placed at once in one folder all land with their bytes', async () => {
    const placed = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const temp = (await store.smallStagingTemp(`/many/f${i}`))!;
        await writeFile(temp, `file ${i}`);
        return placeFile(temp, join(sync, `f${i}.txt`), { mode: 0o644, mtime: new Date(MTIME) });
      }),
    );
    expect(new Set(placed)).toEqual(new Set(['moved']));
    for (let i = 0; i < 64; i++) expect(await readFile(join(sync, `f${i}.txt`), 'utf8')).toBe(`file ${i}`);
    // Nothing left in the cache: no object folder made, the staging folder empty.
    expect(await readdir(join(dir, 'cache', 'objects'))).toEqual([]);
    expect(await readdir(join(dir, 'cache', 'staging', 'acct'))).toEqual([]);
  });

  it('C8: a small download\'s temp left by a crash is buried at the next open, never served', async () => {
    const temp = (await store.smallStagingTemp('/crash.txt'))!;
    await writeFile(temp, 'half of it');
    await store.abandonForTesting();
    store = await CacheStore.open(join(dir, 'cache'), { volume: 'acct' });
    await expect(stat(temp)).rejects.toThrow();
    expect(await readdir(join(dir, 'cache', 'staging', 'acct'))).toEqual([]);
    const obj = await store.openObject('/crash.txt', { ...AUX, size: 10 });
    expect(await obj.queryOccupancy(0, 10)).toEqual([]);
    await obj.close();
  });

  it.skipIf(!MOUNT_OK)('another filesystem: placeFile copies under a partial name, renames it onto the synced file and removes the source', async () => {
    const mnt = await mkdtemp(join(tmpdir(), 'netfs-tmpfs-'));
    mountTmpfs(mnt, 'size=8m');
    try {
      const temp = (await store.smallStagingTemp('/x.txt'))!;
      await writeFile(temp, 'across');
      expect(await placeFile(temp, join(mnt, 'x.txt'), { mode: 0o644, mtime: new Date(MTIME) })).toBe('copied');
      expect(await readFile(join(mnt, 'x.txt'), 'utf8')).toBe('across');
      expect((await stat(join(mnt, 'x.txt'))).mtimeMs).toBe(MTIME);
      expect((await readdir(mnt)).filter((n) => n.startsWith(PARTIAL_PREFIX))).toEqual([]);
      await expect(stat(temp)).rejects.toThrow();
    } finally {
      unmount(mnt);
      await rm(mnt, { recursive: true, force: true });
    }
  });
});

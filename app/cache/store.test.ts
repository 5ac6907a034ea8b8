// The store on a real folder and a real SQLite index: coherency (64), DIRTY and crashes (65),
// temp files linked at commit (66), layout and index.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from './index-db.js';
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

const v1 = { etag: '"v1"', lastModified: 1000, size: 2 * G };
const exists = (p: string) => stat(p).then(() => true, () => false);

function dirtyFlag(key: string): number | undefined {
  const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT dirty FROM objects WHERE key = ?').get(key) as { dirty: number } | undefined)?.dirty;
  } finally {
    db.close();
  }
}

async function storeWithCommitted(key: string): Promise<CacheStore> {
  const store = await CacheStore.open(dir, { volume: 'acct', testPredictableNames: true });
  const obj = await store.openObject(key, v1);
  await obj.write(0, [pattern(2 * G, 1)]);
  await obj.collectWrite(0, 2 * G);
  return store;
}

describe('cache store', () => {
  it('lays out index.sqlite (WAL, versioned), objects/ab/cd/<sha256> and graveyard/', async () => {
    const store = await storeWithCommitted('/docs/a.txt');
    const path = store.objectFilePath('/docs/a.txt');
    expect(path).toMatch(/objects\/([0-9a-f]{2})\/([0-9a-f]{2})\/\1\2[0-9a-f]{60}$/);
    expect(await exists(path)).toBe(true);
    expect(await exists(join(dir, 'graveyard'))).toBe(true);
    await store.close();
    const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('a matching object is adopted with its content after a re-open', async () => {
    await (await storeWithCommitted('/a')).close();
    const store = await CacheStore.open(dir, { volume: 'acct' });
    const obj = await store.openObject('/a', v1);
    expect(store.outcomes).toEqual([{ key: '/a', outcome: 'adopted' }]);
    expect(obj.content).toBe('ALL');
    expect(await readRange(obj, 0, 2 * G)).toEqual(pattern(2 * G, 1));
    await store.close();
  });

  it('64: an object whose aux data differs is discarded to the graveyard and starts empty', async () => {
    await (await storeWithCommitted('/a')).close();
    const store = await CacheStore.open(dir, { volume: 'acct' });
    for (const changed of [{ ...v1, etag: '"v2"' }, { ...v1, etag: '"v2"', lastModified: 2000 }, { ...v1, etag: '"v2"', lastModified: 2000, size: 3 * G }]) {
      const obj = await store.openObject('/a', changed);
      expect(obj.content).toBe('NO_DATA');
      expect(await obj.queryOccupancy(0, 3 * G)).toEqual([]);
      await obj.write(0, [pattern(G, 7)]);
      await obj.collectWrite(0, G);
      await obj.close();
    }
    expect(store.outcomes.map((o) => o.outcome)).toEqual(['stale-aux', 'stale-aux', 'stale-aux']);
    await store.drainGraveyard();
    expect(await readdir(join(dir, 'graveyard'))).toEqual([]);
    // While open: a changed remote file invalidates the live object.
    const obj = await store.openObject('/a', { ...v1, etag: '"v2"', lastModified: 2000, size: 3 * G });
    expect(await obj.queryOccupancy(0, G)).toEqual([{ start: 0, end: G, type: 'DATA' }]);
    const again = await store.openObject('/a', { ...v1, etag: '"v3"', size: 3 * G });
    expect(again).toBe(obj);
    expect(obj.invalidations).toEqual(['stale-aux']);
    expect(await obj.queryOccupancy(0, G)).toEqual([]);
    await store.close();
  });

  it('65: DIRTY is on record while a write is not collected; a store re-opened after a crash discards the object', async () => {
    const store = await storeWithCommitted('/a');
    expect(dirtyFlag('/a')).toBe(0);
    const obj = await store.openObject('/a', v1);
    await obj.write(0, [pattern(G, 2)]);
    expect(dirtyFlag('/a')).toBe(1);
    const finalPath = store.objectFilePath('/a');
    await store.abandonForTesting(); // closes the descriptors and the index, commits nothing
    const again = await CacheStore.open(dir, { volume: 'acct' });
    const reopened = await again.openObject('/a', v1);
    expect(again.outcomes).toEqual([{ key: '/a', outcome: 'dirty' }]);
    expect(reopened.content).toBe('NO_DATA');
    expect(await reopened.queryOccupancy(0, 2 * G)).toEqual([]);
    await expect(readRange(reopened, 0, G)).rejects.toMatchObject({ code: 'IO' });
    expect(await exists(finalPath)).toBe(false);
    expect(dirtyFlag('/a')).toBe(0);
    await again.close();
  });

  it('65: a child process SIGKILLed mid-write leaves a DIRTY object that is never served', async () => {
    const here = fileURLToPath(new URL('.', import.meta.url));
    const child = spawn(process.execPath, ['--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'testing-crash-child.ts'), dir, '/big.bin'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        if (b.toString().includes('READY')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(dirtyFlag('/big.bin')).toBe(1);
    const store = await CacheStore.open(dir, { volume: 'acct' });
    const obj = await store.openObject('/big.bin', { etag: '"v1"', lastModified: 1, size: 64 * G });
    expect(store.outcomes).toEqual([{ key: '/big.bin', outcome: 'dirty' }]);
    expect(await obj.queryOccupancy(0, 64 * G)).toEqual([]);
    await store.close();
    expect(await readdir(join(dir, 'graveyard'))).toEqual([]);
  });

  it('66: a new backing file lives under a temp name until collect links it, replacing an older file', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', testPredictableNames: true });
    const obj = await store.openObject('/n', v1);
    const temp = store.tempFilePath('/n');
    const final = store.objectFilePath('/n');
    await obj.write(0, [pattern(G, 1)]);
    expect(await exists(temp)).toBe(true);
    expect(await exists(final)).toBe(false);
    await writeFile(final, 'an older file of the same name');
    await obj.collectWrite(0, G);
    expect(await exists(temp)).toBe(false);
    expect((await stat(final)).size).toBe(G);
    expect(await readRange(obj, 0, G)).toEqual(pattern(G, 1));
    await store.close();
  });

  it('66: a fault aimed at the temp file fails the cache write and leaves nothing visible', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', testPredictableNames: true });
    const obj = await store.openObject('/f', v1);
    await mkdir(store.tempFilePath('/f'), { recursive: true }); // a folder where the temp file goes
    await expect(obj.write(0, [pattern(G, 1)])).rejects.toMatchObject({ code: 'IO' });
    expect(await exists(store.objectFilePath('/f'))).toBe(false);
    expect(await obj.queryOccupancy(0, 2 * G)).toEqual([]);
    await obj.invalidate('write-error');
    await store.close();
  });

  it('an uncommitted temp file is swept into the graveyard at open; a volume opens once per process', async () => {
    const store = await CacheStore.open(dir, { volume: 'acct', testPredictableNames: true });
    await expect(CacheStore.open(dir, { volume: 'acct' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(CacheStore.open(dir, { volume: '.hidden' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(CacheStore.open(dir, { volume: 'a/b' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const obj = await store.openObject('/t', v1);
    await obj.write(0, [pattern(G, 1)]);
    const temp = store.tempFilePath('/t');
    await store.abandonForTesting();
    expect(await exists(temp)).toBe(true);
    const again = await CacheStore.open(dir, { volume: 'acct' });
    expect(await exists(temp)).toBe(false);
    await again.close();
  });

  it('an index from a newer schema is refused', async () => {
    await (await CacheStore.open(dir, { volume: 'acct' })).close();
    const db = new Database(join(dir, 'index.sqlite'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await expect(CacheStore.open(dir, { volume: 'acct' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

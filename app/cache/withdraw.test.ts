// Cache failure (netfs-digest §5.8, §7.10; behaviours 84, 85; F15's EIO half): a REAL EIO from
// the kernel on one backing file, injected by strace (`-P <exact file>`: a -P on a folder reaches
// nothing inside it), in a child node process that strace starts (testing-eio-child.ts, the
// store's and the engine's own TypeScript through app/testing/ts-loader.mjs). The cache withdraws,
// every later cache operation fails fast, the engine goes on uncached with the right bytes, the
// inspection says so, and after a restart the object that failed is not served.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheStore } from './store.js';
import type { EioJob, EioResult } from './testing-eio-child.js';
import { pattern, readRange, tempCacheDir } from './testing.js';

const G = 65536;
const SIZE = 8 * G;
const here = fileURLToPath(new URL('.', import.meta.url));
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempCacheDir());
});
afterEach(async () => {
  await cleanup();
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A cache with two whole objects, `/bad.bin` and `/good.bin`, and the "server" holding the same bytes. */
async function prepare(): Promise<{ job: Omit<EioJob, 'mode'>; badPath: string; bytes: Map<string, Uint8Array> }> {
  const remoteRoot = join(dir, 'remote');
  await mkdir(remoteRoot);
  const cacheDir = join(dir, 'cache');
  const store = await CacheStore.open(cacheDir, { volume: 'acct', keepAliveMs: 0 });
  const bytes = new Map<string, Uint8Array>();
  for (const [key, seed] of [
    ['/bad.bin', 1],
    ['/good.bin', 2],
  ] as const) {
    const data = pattern(SIZE, seed);
    bytes.set(key, data);
    await writeFile(join(remoteRoot, key), data);
    const obj = await store.openObject(key, { etag: '"e1"', lastModified: 1, size: SIZE });
    await obj.write(0, [data]);
    await obj.collectWrite(0, SIZE);
    await obj.close();
  }
  const badPath = store.objectFilePath('/bad.bin');
  await store.close();
  return { job: { dir: cacheDir, remoteRoot, bad: '/bad.bin', good: '/good.bin', size: SIZE, etag: '"e1"' }, badPath, bytes };
}

/** Runs the child under strace, failing `calls` on exactly `file` with EIO. */
async function underStrace(job: EioJob, file: string, calls: string): Promise<{ result: EioResult; log: string }> {
  const logFile = join(dir, `strace-${job.mode}.log`);
  const args = ['-f', '-qq', '-o', logFile, '-P', file, '-e', `trace=${calls}`, '-e', `inject=${calls}:error=EIO`];
  const child = spawn('strace', [...args, process.execPath, '--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'testing-eio-child.ts'), JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the child (under strace) exited with ${code}: ${err}`);
  return { result: JSON.parse(out.trim().split('\n').at(-1) ?? '') as EioResult, log: await readFile(logFile, 'utf8') };
}

describe('cache failure: a real EIO on one backing file withdraws the cache', () => {
  it('84, F15: a write that gets EIO withdraws the cache; later operations fail fast, the engine goes on uncached; after a restart the object is not served', { timeout: 30_000 }, async () => {
    const { job, badPath, bytes } = await prepare();
    const { result, log } = await underStrace({ ...job, mode: 'write' }, badPath, 'write,pwrite64,pwritev');
    // The EIO really came from the kernel, on that file only.
    expect(log).toMatch(/pwrite64\(.*= -1 EIO .*\(INJECTED\)/);
    expect(result.failed).toBe('IO');
    expect(result.failedMessage).toMatch(/EIO/);
    // Withdrawn, and the inspection says so.
    expect(result.state).toBe('withdrawn');
    expect(result.withdrawn?.code).toBe('EIO');
    // Every later cache operation fails fast: occupancy empty (a miss), read / write / lookup refused.
    expect(result.occupancyAfter).toBe(0);
    expect(result.readAfter).toBe('IO');
    expect(result.writeAfter).toBe('IO');
    expect(result.lookupAfter).toBe('IO');
    expect(result.withdrawnOps).toBeGreaterThanOrEqual(3);
    // The engine reads the other file uncached: no cache read issued, server bytes right.
    expect(result.engineSha).toBe(sha(bytes.get('/good.bin')!));
    expect(result.engineStats.RD).toBe(0);
    expect(result.engineStats.DL).toBeGreaterThan(0);
    // After a restart (re-bind): the object that failed is discarded, never served; the other is intact.
    const store = await CacheStore.open(job.dir, { volume: 'acct' });
    const bad = await store.openObject('/bad.bin', { etag: '"e1"', lastModified: 1, size: SIZE });
    expect(store.outcomes.at(-1)?.outcome).toBe('dirty');
    expect(await bad.queryOccupancy(0, SIZE)).toEqual([]);
    await expect(readRange(bad, 0, G)).rejects.toMatchObject({ code: 'IO' });
    const good = await store.openObject('/good.bin', { etag: '"e1"', lastModified: 1, size: SIZE });
    expect(store.outcomes.at(-1)?.outcome).toBe('adopted');
    expect(await readRange(good, 0, SIZE)).toEqual(bytes.get('/good.bin'));
    expect(store.state).toBe('normal');
    // The index and the store agree.
    expect((await store.verify()).bad).toEqual([]);
    await store.close();
  });

  it('85: a cache read in flight that gets EIO is retried from the server; the reader sees the right bytes; the cache withdraws', { timeout: 30_000 }, async () => {
    const { job, badPath, bytes } = await prepare();
    const { result, log } = await underStrace({ ...job, mode: 'read' }, badPath, 'pread64,preadv,read');
    expect(log).toMatch(/pread64\(.*= -1 EIO .*\(INJECTED\)/);
    expect(result.failed).toBe('OK');
    expect(result.engineSha).toBe(sha(bytes.get('/bad.bin')!));
    // The cache read was issued, failed, and the range came from the server instead.
    expect(result.engineStats.RD).toBeGreaterThan(0);
    expect(result.engineStats.rf).toBeGreaterThan(0);
    expect(result.engineTrace).toContain('RDOWN READ');
    expect(result.engineTrace).toContain('RETRY DOWN');
    expect(result.state).toBe('withdrawn');
    expect(result.withdrawn?.code).toBe('EIO');
    expect(result.readAfter).toBe('IO');
    expect(result.lookupAfter).toBe('IO');
    // After a restart the object that failed is not served.
    const store = await CacheStore.open(job.dir, { volume: 'acct' });
    const bad = await store.openObject('/bad.bin', { etag: '"e1"', lastModified: 1, size: SIZE });
    expect(await bad.queryOccupancy(0, SIZE)).toEqual([]);
    await store.close();
  });
});

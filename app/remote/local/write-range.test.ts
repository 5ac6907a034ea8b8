import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNetfsError } from '../../api/errors.js';
import { createLocalBackend } from './backend.js';
import { statEntry } from './list.js';
import { canMount, chunked, makeTempRoot, mountTmpfs, pattern, sameBytes, unmount } from './test-kit.js';
import type { TempRoot } from './test-kit.js';
import { writeRangeInPlace } from './write-range.js';

const MOUNT_OK = canMount();

describe('local ranged writes (writeRange)', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const writeAt = (remotePath: string, offset: number, data: Uint8Array, chunk = 4096) =>
    writeRangeInPlace(t.ctx, remotePath, { offset, length: data.length, source: chunked(data, chunk) });

  const codeOf = async (p: Promise<unknown>): Promise<string | false> => {
    const e = await p.then(() => null, (x: unknown) => x);
    return isNetfsError(e) && e.code;
  };

  it('53: writes in place at the offset (same inode), extends at the end, and changes the ETag', async () => {
    const base = pattern(100_000, 1);
    await t.put('f.bin', base);
    const before = await statEntry(t.ctx, '/f.bin');
    const ino = (await fs.stat(t.disk('f.bin'))).ino;
    const data = pattern(30_000, 2);
    expect(await writeAt('/f.bin', 50_000, data)).toEqual({ written: 30_000 });
    const tail = pattern(5000, 3);
    expect(await writeAt('/f.bin', 100_000, tail)).toEqual({ written: 5000 });
    const disk = await fs.readFile(t.disk('f.bin'));
    const expected = Buffer.concat([Buffer.from(base), Buffer.from(tail)]);
    expected.set(data, 50_000);
    expect(sameBytes(disk, expected)).toBe(true);
    expect((await fs.stat(t.disk('f.bin'))).ino).toBe(ino);
    expect((await statEntry(t.ctx, '/f.bin')).etag).not.toBe(before.etag);
  });

  it('M1, M2: refuses what it cannot do: past the end, missing file, folder, symlink, the root, a wrong source length', async () => {
    await t.put('f.bin', pattern(10));
    await fs.mkdir(t.disk('dir'));
    await fs.symlink(path.join(t.outside, 'secret.txt'), t.disk('link'));
    expect(await codeOf(writeAt('/f.bin', 11, pattern(1)))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(writeAt('/nope.bin', 0, pattern(1)))).toBe('NOT_FOUND');
    expect(await codeOf(writeAt('/dir', 0, pattern(1)))).toBe('CONFLICT');
    expect(await codeOf(writeAt('/link', 0, pattern(1)))).toBe('FORBIDDEN');
    expect(await codeOf(writeAt('/', 0, pattern(1)))).toBe('CONFLICT');
    expect(await codeOf(writeRangeInPlace(t.ctx, '/f.bin', { offset: 0, length: 2, source: chunked(pattern(5)) }))).toBe('TOO_LARGE');
    expect(await fs.readFile(path.join(t.outside, 'secret.txt'), 'utf8')).toBe('outside the root');
  });

  it('53, B7: a source that ends early fails with the bytes already written in `transferred`', async () => {
    await t.put('f.bin', pattern(100_000));
    const err = await writeRangeInPlace(t.ctx, '/f.bin', { offset: 0, length: 50_000, source: chunked(pattern(20_000), 4096) }).catch((x: unknown) => x);
    expect(isNetfsError(err) && err.code).toBe('IO');
    expect((err as { transferred?: number }).transferred).toBe(20_000);
  });

  it('C7: is a method of the backend and cancels with its signal', async () => {
    await t.put('f.bin', pattern(10));
    const backend = createLocalBackend({ url: `file://${t.root}` });
    expect(await backend.writeRange('/f.bin', { offset: 2, length: 3, source: chunked(pattern(3, 9)) })).toEqual({ written: 3 });
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(backend.writeRange('/f.bin', { offset: 0, length: 1, source: chunked(pattern(1)), signal: ac.signal }))).toBe('CANCELLED');
    await backend.close();
  });

  it.skipIf(!MOUNT_OK)('F15: a full disk is INSUFFICIENT_STORAGE, with the bytes that did land in `transferred`', async () => {
    const mnt = path.join(t.parent, 'tiny');
    await fs.mkdir(mnt);
    mountTmpfs(mnt, 'size=256k');
    try {
      const ctx = { root: mnt, locks: t.ctx.locks };
      await fs.writeFile(path.join(mnt, 'f.bin'), pattern(10));
      const err = await writeRangeInPlace(ctx, '/f.bin', { offset: 10, length: 1024 * 1024, source: chunked(pattern(1024 * 1024), 64 * 1024) }).catch((x: unknown) => x);
      expect(isNetfsError(err) && err.code).toBe('INSUFFICIENT_STORAGE');
      const landed = (err as { transferred?: number }).transferred ?? 0;
      expect(landed).toBeGreaterThan(0);
      expect(landed).toBeLessThan(1024 * 1024);
    } finally {
      unmount(mnt);
    }
  });
});

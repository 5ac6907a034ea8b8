import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { etagOf, isStrongEtag, mtimeMsOf, setMtime, versionMismatch } from './version.js';
import { makeTempRoot } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

describe('local versions', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('derives strong ETags from inode, size and mtime in ns', async () => {
    const file = await t.put('a.txt', 'hello');
    const stats = await fs.stat(file, { bigint: true });
    expect(etagOf(stats)).toBe(`"${stats.ino.toString(16)}-5-${stats.mtimeNs.toString(16)}"`);
    expect(isStrongEtag(etagOf(stats))).toBe(true);
    expect(isStrongEtag('W/"x"')).toBe(false);
    expect(isStrongEtag('x')).toBe(false);
    expect(isStrongEtag(null)).toBe(false);
  });

  it('sets an mtime that reads back as exactly the same milliseconds', async () => {
    const file = await t.put('a.txt', 'x');
    const handle = await fs.open(file, 'r+');
    try {
      for (const ms of [0, 1, 999, 1_700_000_000_123, 1_732_159_492_747, 4_000_000_000_001]) {
        await setMtime(handle, ms);
        const stats = await handle.stat({ bigint: true });
        expect(stats.mtimeNs).toBe(BigInt(ms) * 1_000_000n);
        expect(mtimeMsOf(stats)).toBe(ms);
      }
    } finally {
      await handle.close();
    }
  });

  it('compares a strong ETag alone, and size/mtime stand-ins when the ETag is weak or missing', async () => {
    const file = await t.put('a.txt', 'hello');
    const handle = await fs.open(file, 'r+');
    await setMtime(handle, 1_700_000_000_000);
    await handle.close();
    const stats = await fs.stat(file, { bigint: true });
    const etag = etagOf(stats);
    expect(versionMismatch({ etag }, stats)).toBeNull();
    expect(versionMismatch({ etag, size: 999 }, stats)).toBeNull();
    expect(versionMismatch({ etag: '"other"' }, stats)).toMatch(/ETag is/);
    expect(versionMismatch({ etag: null }, stats)).toBeNull();
    expect(versionMismatch({ etag: null, size: 5, mtimeMs: 1_700_000_000_000 }, stats)).toBeNull();
    expect(versionMismatch({ etag: `W/${etag}`, size: 5, mtimeMs: 1_700_000_000_000.4 }, stats)).toBeNull();
    expect(versionMismatch({ etag: null, size: 6 }, stats)).toMatch(/size is 5, expected 6/);
    expect(versionMismatch({ etag: 'W/"x"', mtimeMs: 1_700_000_001_000 }, stats)).toMatch(/modified at/);
  });
});

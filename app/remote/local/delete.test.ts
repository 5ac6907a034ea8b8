import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteEntry } from './delete.js';
import { statEntry } from './list.js';
import { exists, hashTree, makeTempRoot } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

describe('local delete', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('deletes a file, and a folder with everything in it', async () => {
    await t.put('a.txt', 'x');
    await t.put('dir/sub/deep.txt', 'x');
    await t.put('dir/b.txt', 'x');
    await deleteEntry(t.ctx, '/a.txt');
    await deleteEntry(t.ctx, '/dir');
    expect(await fs.readdir(t.root)).toEqual([]);
  });

  it('checks preconditions right before deleting: match, stale, absent', async () => {
    await t.put('a.txt', 'v1');
    const v1 = await statEntry(t.ctx, '/a.txt');
    await t.put('b.txt', 'x');
    await expect(deleteEntry(t.ctx, '/a.txt', { precondition: { kind: 'match', etag: '"1-1-1"' } })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining('"/a.txt"'),
    });
    await expect(deleteEntry(t.ctx, '/b.txt', { precondition: { kind: 'absent' } })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    await expect(deleteEntry(t.ctx, '/a.txt', { precondition: { kind: 'match', etag: null, size: 99 } })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await exists(t.disk('a.txt'))).toBe(true);
    await deleteEntry(t.ctx, '/a.txt', { precondition: { kind: 'match', etag: v1.etag } });
    expect(await exists(t.disk('a.txt'))).toBe(false);
    await t.put('dir/x', 'x');
    const dir = await statEntry(t.ctx, '/dir');
    await deleteEntry(t.ctx, '/dir', { precondition: { kind: 'match', etag: dir.etag } });
    expect(await exists(t.disk('dir'))).toBe(false);
  });

  it('fails with NOT_FOUND for a missing entry and refuses the root', async () => {
    await expect(deleteEntry(t.ctx, '/missing')).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('"/missing"') });
    await expect(deleteEntry(t.ctx, '/no/such')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(deleteEntry(t.ctx, '/')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await exists(t.root)).toBe(true);
  });

  it('M2: refuses deletes behind a symlinked parent and of symlinks; removes links inside a deleted folder without following them', async () => {
    const before = await hashTree(t.outside);
    await fs.symlink(t.outside, t.disk('out'));
    await expect(deleteEntry(t.ctx, '/out/secret.txt')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(deleteEntry(t.ctx, '/out')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await t.put('dir/x', 'x');
    await fs.symlink(t.outside, t.disk('dir/link-out'));
    await fs.symlink(path.join(t.outside, 'secret.txt'), t.disk('dir/file-link'));
    await deleteEntry(t.ctx, '/dir');
    expect(await exists(t.disk('dir'))).toBe(false);
    expect((await fs.lstat(t.disk('out'))).isSymbolicLink()).toBe(true);
    expect(await hashTree(t.outside)).toBe(before);
  });

  it("M1: refuses '..' and reserved names", async () => {
    await expect(deleteEntry(t.ctx, '/..')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(deleteEntry(t.ctx, '/a/../..')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(deleteEntry(t.ctx, '/.netfs-probe-x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await exists(t.outside)).toBe(true);
  });
});

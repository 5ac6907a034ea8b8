import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statEntry } from './list.js';
import { moveEntry } from './move.js';
import { exists, hashTree, makeTempRoot, treeOf } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

describe('local move', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const read = (relative: string): Promise<string> => fs.readFile(t.disk(relative), 'utf8');

  it('renames a file within and across folders, keeping its ETag', async () => {
    await t.put('a.txt', 'A');
    await fs.mkdir(t.disk('dir'));
    const before = await statEntry(t.ctx, '/a.txt');
    await moveEntry(t.ctx, '/a.txt', '/b.txt');
    await moveEntry(t.ctx, '/b.txt', '/dir/c d#?.txt');
    expect(await read('dir/c d#?.txt')).toBe('A');
    expect((await statEntry(t.ctx, '/dir/c d#?.txt')).etag).toBe(before.etag);
    expect(await treeOf(t.root)).toEqual(['dir', 'dir/c d#?.txt']);
  });

  it('moves folders with their content', async () => {
    await t.put('src/sub/x.txt', 'x');
    await fs.mkdir(t.disk('dst'));
    await moveEntry(t.ctx, '/src', '/dst/moved');
    expect(await treeOf(t.root)).toEqual(['dst', 'dst/moved', 'dst/moved/sub', 'dst/moved/sub/x.txt']);
  });

  it('refuses an existing destination without overwrite (CONFLICT), leaving both as they were', async () => {
    await t.put('a.txt', 'A');
    await t.put('b.txt', 'B');
    await t.put('da/x', 'x');
    await t.put('db/y', 'y');
    await expect(moveEntry(t.ctx, '/a.txt', '/b.txt')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/"\/b\.txt" already exists/) });
    await expect(moveEntry(t.ctx, '/da', '/db')).rejects.toMatchObject({ code: 'CONFLICT' });
    await fs.mkdir(t.disk('empty'));
    await expect(moveEntry(t.ctx, '/da', '/empty')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(moveEntry(t.ctx, '/a.txt', '/da')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await read('a.txt')).toBe('A');
    expect(await read('b.txt')).toBe('B');
    expect(await treeOf(t.root)).toEqual(['a.txt', 'b.txt', 'da', 'da/x', 'db', 'db/y', 'empty']);
  });

  it('replaces the destination with overwrite: file over file, folder over folder, and across kinds', async () => {
    await t.put('a.txt', 'A');
    await t.put('b.txt', 'B');
    await moveEntry(t.ctx, '/a.txt', '/b.txt', { overwrite: true });
    expect(await read('b.txt')).toBe('A');
    await t.put('da/x', 'x');
    await t.put('db/y', 'y');
    await moveEntry(t.ctx, '/da', '/db', { overwrite: true });
    expect(await treeOf(t.root)).toEqual(['b.txt', 'db', 'db/x']);
    await moveEntry(t.ctx, '/b.txt', '/db', { overwrite: true });
    expect(await read('db')).toBe('A');
    await t.put('dc/z', 'z');
    await moveEntry(t.ctx, '/dc', '/db', { overwrite: true });
    expect(await treeOf(t.root)).toEqual(['db', 'db/z']);
  });

  it('refuses moving into its own subtree or onto an ancestor (CONFLICT), the root, and a no-op', async () => {
    await t.put('a/b/c.txt', 'x');
    await expect(moveEntry(t.ctx, '/a', '/a/b/a')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/into itself/) });
    await expect(moveEntry(t.ctx, '/a/b', '/a', { overwrite: true })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(moveEntry(t.ctx, '/', '/x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(moveEntry(t.ctx, '/a', '/', { overwrite: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(moveEntry(t.ctx, '/a', '/a')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await moveEntry(t.ctx, '/a', '/ab');
    expect(await treeOf(t.root)).toEqual(['ab', 'ab/b', 'ab/b/c.txt']);
  });

  it('fails with NOT_FOUND for a missing source and CONFLICT for a missing destination parent', async () => {
    await t.put('a.txt', 'A');
    await expect(moveEntry(t.ctx, '/missing', '/x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(moveEntry(t.ctx, '/a.txt', '/no/x')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/parent folder missing/) });
    expect(await read('a.txt')).toBe('A');
  });

  it('checks the precondition on the source: match, stale, absent', async () => {
    await t.put('a.txt', 'A');
    const v = await statEntry(t.ctx, '/a.txt');
    await expect(moveEntry(t.ctx, '/a.txt', '/b.txt', { precondition: { kind: 'match', etag: '"9-9-9"' } })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    await expect(moveEntry(t.ctx, '/a.txt', '/b.txt', { precondition: { kind: 'absent' } })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await exists(t.disk('b.txt'))).toBe(false);
    await moveEntry(t.ctx, '/a.txt', '/b.txt', { precondition: { kind: 'match', etag: v.etag } });
    expect(await read('b.txt')).toBe('A');
  });

  it('B1: keeps NFC and NFD names apart, byte for byte', async () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    await t.put(nfc, 'nfc');
    await moveEntry(t.ctx, '/' + nfc, '/' + nfd);
    await t.put(nfc, 'nfc again');
    await expect(moveEntry(t.ctx, '/' + nfc, '/' + nfd)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await fs.readdir(t.root, { encoding: 'buffer' })).map((b) => b.toString('hex')).sort()).toEqual(
      [Buffer.from(nfc).toString('hex'), Buffer.from(nfd).toString('hex')].sort(),
    );
    expect(await read(nfd)).toBe('nfc');
  });

  it('lets exactly one of two concurrent moves onto the same new name win', async () => {
    await t.put('a.txt', 'A');
    await t.put('b.txt', 'B');
    const results = await Promise.allSettled([moveEntry(t.ctx, '/a.txt', '/c.txt'), moveEntry(t.ctx, '/b.txt', '/c.txt')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });
    expect((await treeOf(t.root)).length).toBe(2);
  });

  it('M2: never moves through, onto or a symlink; nothing outside the root changes', async () => {
    await fs.symlink(t.outside, t.disk('out'));
    await fs.symlink(path.join(t.outside, 'secret.txt'), t.disk('link.txt'));
    await t.put('a.txt', 'A');
    const before = await hashTree(t.outside);
    await expect(moveEntry(t.ctx, '/a.txt', '/out/a.txt')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(moveEntry(t.ctx, '/out/secret.txt', '/stolen.txt')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(moveEntry(t.ctx, '/link.txt', '/moved-link')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(moveEntry(t.ctx, '/a.txt', '/link.txt', { overwrite: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(moveEntry(t.ctx, '/a.txt', '/out', { overwrite: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await hashTree(t.outside)).toBe(before);
    expect(await read('a.txt')).toBe('A');
  });
});

import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFolder } from './mkdir.js';
import { hashTree, makeTempRoot } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

describe('local mkdir', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('creates one folder whose parent exists, with any valid name', async () => {
    await makeFolder(t.ctx, '/a');
    await makeFolder(t.ctx, '/a/b c #?&+%20 caf\u00e9 \u{1F600}');
    expect((await fs.stat(t.disk('a/b c #?&+%20 caf\u00e9 \u{1F600}'))).isDirectory()).toBe(true);
  });

  it('refuses an existing name, a missing parent and the root with CONFLICT', async () => {
    await makeFolder(t.ctx, '/a');
    await t.put('f.txt', 'x');
    await expect(makeFolder(t.ctx, '/a')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/"\/a": already exists/) });
    await expect(makeFolder(t.ctx, '/f.txt')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already exists/) });
    await expect(makeFolder(t.ctx, '/x/y')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/parent folder missing/) });
    await expect(makeFolder(t.ctx, '/f.txt/y')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/not a folder/) });
    await expect(makeFolder(t.ctx, '/')).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it("M1/M2: refuses '..' and folders reached through a symlink; nothing appears outside the root", async () => {
    await fs.symlink(t.outside, t.disk('out'));
    const before = await hashTree(t.outside);
    await expect(makeFolder(t.ctx, '/out/evil')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(makeFolder(t.ctx, '/../evil')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(makeFolder(t.ctx, '/out')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await hashTree(t.outside)).toBe(before);
  });

  it('is cancelled before it starts when the signal has fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(makeFolder(t.ctx, '/a', controller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(fs.stat(t.disk('a'))).rejects.toThrow();
  });
});

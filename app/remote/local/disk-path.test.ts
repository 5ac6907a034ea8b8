import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkAncestors, lstatTarget, resolveTarget } from './disk-path.js';
import { makeTempRoot } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

describe('local disk paths', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('maps clean remote paths below the root, byte for byte', () => {
    const target = resolveTarget('/srv/share', '/docs/a b.txt');
    expect(target).toMatchObject({ diskPath: '/srv/share/docs/a b.txt', name: 'a b.txt', parentRemote: '/docs', parentDisk: '/srv/share/docs' });
    expect(resolveTarget('/srv/share', '/')).toMatchObject({ diskPath: '/srv/share', name: '', segments: [] });
    expect(resolveTarget('/', '/etc').diskPath).toBe('/etc');
    expect(resolveTarget('/r', '/caf\u00e9').diskPath).not.toBe(resolveTarget('/r', '/cafe\u0301').diskPath);
  });

  it("M1: refuses '..', '.', empty segments, backslashes, NUL and relative paths before touching the disk", () => {
    for (const bad of ['/..', '/a/../../etc/passwd', '/./a', '//a', 'a', '', '/a/', '/..\\x', '/a\0b', '/../x']) {
      expect(() => resolveTarget(t.root, bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    // Percent signs are just characters: '/%2e%2e' is a file named "%2e%2e" inside the root.
    expect(resolveTarget(t.root, '/%2e%2e/x').diskPath).toBe(path.join(t.root, '%2e%2e', 'x'));
  });

  it("refuses the backend's own temp names", () => {
    for (const bad of ['/.netfs-partial-abc', '/a/.netfs-probe-1/b']) {
      expect(() => resolveTarget(t.root, bad), bad).toThrow(/reserved/);
    }
    expect(resolveTarget(t.root, '/.netfs-other').name).toBe('.netfs-other');
  });

  it('M2: refuses to go through a symlinked folder, wherever it points', async () => {
    await fs.symlink(t.outside, t.disk('out'));
    await fs.mkdir(t.disk('real'));
    await fs.symlink(t.disk('real'), t.disk('in'));
    for (const link of ['/out/secret.txt', '/in/x']) {
      const target = resolveTarget(t.root, link);
      await expect(checkAncestors(t.root, target, 'read', 'NOT_FOUND'), link).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringMatching(/symbolic link/),
      });
    }
  });

  it('reports missing ancestors as NOT_FOUND or "parent folder missing", and files on the way as CONFLICT', async () => {
    await t.put('file.txt', 'x');
    const deep = resolveTarget(t.root, '/no/such/thing');
    await expect(checkAncestors(t.root, deep, 'stat', 'NOT_FOUND')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(checkAncestors(t.root, deep, 'write', 'CONFLICT')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/parent folder missing/) });
    await expect(checkAncestors(t.root, resolveTarget(t.root, '/file.txt/x'), 'stat', 'NOT_FOUND')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/not a folder/),
    });
    await expect(checkAncestors(t.root, resolveTarget(t.root, '/file.txt'), 'stat', 'NOT_FOUND')).resolves.toBeUndefined();
  });

  it('fails with NOT_FOUND when the root itself is missing, and never creates it', async () => {
    const missing = path.join(t.parent, 'missing-root');
    await expect(checkAncestors(missing, resolveTarget(missing, '/a'), 'write', 'CONFLICT')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/root folder .* does not exist/),
    });
    await expect(lstatTarget(missing, resolveTarget(missing, '/'), 'stat')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fs.stat(missing)).rejects.toThrow();
  });
});

import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capabilitiesSchema } from '../../api/remote.js';
import { probeCapabilities } from './probe.js';
import { canMount, makeTempRoot, mountTmpfs, remountReadOnly, unmount } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

const MOUNT_OK = canMount();

describe('local capabilities probe', () => {
  let t: TempRoot;
  beforeEach(async () => {
    t = await makeTempRoot();
    await t.put('user.txt', 'a user file');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('finds ranges, strong ETags and enforced preconditions, and removes its probe folder', async () => {
    const caps = await probeCapabilities(t.root);
    expect(capabilitiesSchema.parse(caps)).toEqual(caps);
    expect(caps).toEqual({
      ranges: true,
      etags: 'strong',
      davClasses: [],
      ifMatchOnPut: true,
      ifNoneMatchOnPut: true,
      ifMatchOnDelete: true,
      folderEtagsPropagate: false,
      depthInfinity: false,
      notes: [],
    });
    expect(await fs.readdir(t.root)).toEqual(['user.txt']);
  });

  it('fails with NOT_FOUND when the root is missing, and does not create it', async () => {
    const missing = path.join(t.parent, 'missing');
    await expect(probeCapabilities(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fs.stat(missing)).rejects.toThrow();
  });

  it('is cancelled by a fired signal and leaves nothing behind', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(probeCapabilities(t.root, controller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await fs.readdir(t.root)).toEqual(['user.txt']);
  });

  it.skipIf(!MOUNT_OK)('answers false for what a read-only root does not let it check, and says why', async () => {
    const ro = path.join(t.parent, 'ro');
    await fs.mkdir(ro);
    mountTmpfs(ro, 'size=64k');
    try {
      await fs.writeFile(path.join(ro, 'existing.txt'), 'x');
      remountReadOnly(ro);
      const caps = await probeCapabilities(ro);
      expect(caps).toMatchObject({ ranges: false, etags: 'strong', ifMatchOnPut: false, ifNoneMatchOnPut: false, ifMatchOnDelete: false, folderEtagsPropagate: false });
      expect(caps.notes).toHaveLength(1);
      expect(caps.notes[0]).toMatch(/could not create a probe folder.*(read-only|EROFS)/);
      expect(await fs.readdir(ro)).toEqual(['existing.txt']);
    } finally {
      unmount(ro);
    }
  });

  it.skipIf(!MOUNT_OK)('answers false for what it could not check when a probe step fails (a full disk), and cleans up', async () => {
    const tiny = path.join(t.parent, 'tiny');
    await fs.mkdir(tiny);
    mountTmpfs(tiny, 'size=4k');
    try {
      const caps = await probeCapabilities(tiny);
      expect(caps).toMatchObject({ ranges: false, etags: 'strong', ifMatchOnPut: false, ifNoneMatchOnPut: false, ifMatchOnDelete: false });
      expect(caps.notes.join('\n')).toMatch(/probe stopped early: .*(no space|ENOSPC)/);
      expect(await fs.readdir(tiny)).toEqual([]);
    } finally {
      unmount(tiny);
    }
  });
});

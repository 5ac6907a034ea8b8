// "Open" = files.open through the real app service (a local-folder remote), then shell.openPath.
// The shell is the electron test double (electron-double.ts): Electron's binary cannot run on
// these machines; open-file.ts imports `electron` for types only, so no module mock is needed.
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dispatch } from '../app/api/derive.js';
import { AppService } from '../app/host/service.js';
import { initStateFolder } from '../app/sync/state-folder.js';
import { electronDouble, resetElectronDouble } from './electron-double.js';
import { isRunnable, openAfterCall } from './open-file.js';

let tmp: string;
let service: AppService;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'netfs-open-'));
  const remote = join(tmp, 'remote');
  await mkdir(join(remote, 'docs'), { recursive: true });
  await writeFile(join(remote, 'docs', 'report.txt'), 'quarterly numbers');
  await writeFile(join(remote, 'docs', 'setup.sh'), '#!/bin/sh\necho pwned\n');
  await initStateFolder(join(tmp, 'state'), { remote: `file://${remote}`, local: join(tmp, 'sync') });
  service = await AppService.open(join(tmp, 'state'));
  await vi.waitFor(
    async () => {
      const s = await service.handlers['sync.status']({});
      if (s.sync.state !== 'idle' || s.lastPass === null) throw new Error(`first pass not done: ${s.sync.state}`);
    },
    { timeout: 30_000, interval: 100 },
  );
});

afterAll(async () => {
  await service.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(() => resetElectronDouble());

async function open(path: string): Promise<unknown> {
  const after = openAfterCall(electronDouble.shell, service);
  const result = await dispatch(service.handlers, 'files.open', { path });
  return result.ok ? after('files.open', result) : result;
}

describe('open a file (files.open + shell.openPath)', () => {
  it('opens the hydrated local file with the OS', async () => {
    expect(await open('/docs/report.txt')).toMatchObject({ ok: true, value: { localPath: expect.stringMatching(/report\.txt$/) } });
    expect(electronDouble.shell.openedPaths).toEqual([await realpath(join(tmp, 'sync', 'docs', 'report.txt'))]);
  });

  it('a program or script from the server is shown in its folder, never run', async () => {
    expect(await open('/docs/setup.sh')).toMatchObject({ ok: true });
    expect(electronDouble.shell.openedPaths).toEqual([]);
    expect(electronDouble.shell.revealed).toEqual([await realpath(join(tmp, 'sync', 'docs', 'setup.sh'))]);
    for (const name of ['a.EXE', 'x.desktop', 'y.AppImage', 'z.ps1', 'w.lnk']) expect(isRunnable(name), name).toBe(true);
    for (const name of ['a.txt', 'b.pdf', 'c', 'd.sh.txt']) expect(isRunnable(name), name).toBe(false);
  });

  it('a local path outside the sync folder is never handed to the OS (FORBIDDEN)', async () => {
    const after = openAfterCall(electronDouble.shell, service);
    for (const localPath of ['/etc/passwd', join(tmp, 'state', 'account.json'), join(tmp, 'sync-evil', 'x')]) {
      expect(await after('files.open', { ok: true, value: { localPath } }), localPath).toMatchObject({ ok: false });
    }
    expect(electronDouble.shell.openedPaths).toEqual([]);
    expect(electronDouble.shell.revealed).toEqual([]);
  });

  it('the OS refusing to open is an IO failure with its reason; other commands and failures pass through', async () => {
    const refusing = { ...electronDouble.shell, openPath: async () => 'No application is associated with the specified file' };
    const after = openAfterCall(refusing, service);
    const result = await dispatch(service.handlers, 'files.open', { path: '/docs/report.txt' });
    expect(await after('files.open', result)).toMatchObject({ ok: false, error: { code: 'IO', message: expect.stringContaining('No application is associated') } });
    const other = { ok: true as const, value: { done: true } };
    expect(await after('sync.now', other)).toBe(other);
    const failed = { ok: false as const, error: { code: 'NOT_FOUND' as const, message: 'no such file' } };
    expect(await after('files.open', failed)).toBe(failed);
  });
});

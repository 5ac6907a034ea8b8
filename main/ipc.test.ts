// S4: the ipcMain side against the real app service on a real state folder (local-folder
// remote). Senders are described with the electron test double (electron-double.ts) —
// Electron's binary cannot run on these machines; ipc.ts imports `electron` for types only, so
// no module mock is needed. "No side effect" is checked through the service itself.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkEvent } from '../app/api/derive.js';
import { AppService } from '../app/host/service.js';
import { initStateFolder } from '../app/sync/state-folder.js';
import { IpcMainDouble, WebContentsDouble, frame } from './electron-double.js';
import { installIpc, parseStreams, senderRefusal, type TrustedWindow } from './ipc.js';

let tmp: string;
let service: AppService;
let ipcMain: IpcMainDouble;
let contents: WebContentsDouble;
let window: TrustedWindow & { destroyed: boolean };
let remove: () => void;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'netfs-ipc-'));
  const remote = join(tmp, 'remote');
  await mkdir(join(remote, 'docs'), { recursive: true });
  await writeFile(join(remote, 'docs', 'a.txt'), 'hello');
  await initStateFolder(join(tmp, 'state'), { remote: `file://${remote}`, local: join(tmp, 'sync') });
  service = await AppService.open(join(tmp, 'state'));
  // Let the first sync pass finish, so that what the tests observe changes only when they act.
  await vi.waitFor(
    async () => {
      const s = await service.handlers['sync.status']({});
      if (s.sync.state !== 'idle' || s.lastPass === null) throw new Error(`first pass not done: ${s.sync.state}`);
    },
    { timeout: 30_000, interval: 100 },
  );
  ipcMain = new IpcMainDouble();
  contents = new WebContentsDouble();
  window = { webContents: contents as never, destroyed: false, isDestroyed: () => window.destroyed };
  remove = installIpc({ ipcMain: ipcMain as never, service, window: () => window });
});

afterAll(async () => {
  remove?.();
  await service.close();
  await rm(tmp, { recursive: true, force: true });
});

const top = (): { sender: unknown; senderFrame: ReturnType<typeof frame> } => ({ sender: contents, senderFrame: contents.mainFrame });

async function call(sender: { sender: unknown; senderFrame: ReturnType<typeof frame> | null }, command: unknown, args: unknown): Promise<{ ok: boolean; error?: { code: string; message: string }; value?: unknown }> {
  return (await ipcMain.invoke(sender, 'netfs:call', command, args)) as never;
}

/** What a refused message could have changed, read through the service. */
async function observable(): Promise<unknown> {
  const h = service.handlers;
  const status = await h['sync.status']({});
  return { settings: await h['settings.get']({}), paused: status.sync.state === 'paused', root: await h['files.list']({ path: '/', recursive: true }) };
}

describe('IPC adapter (S4)', () => {
  it('registers one invoke channel and one send channel, nothing else', () => {
    expect([...ipcMain.handlers.keys()]).toEqual(['netfs:call']);
    expect([...ipcMain.listeners.keys()]).toEqual(['netfs:subscribe']);
  });

  it('answers the app window\'s top frame on app://netfs through the contract', async () => {
    expect(await call(top(), 'account.get', {})).toMatchObject({ ok: true, value: { remote: expect.stringMatching(/^file:\/\//) } });
    expect(await call(top(), 'settings.set', { key: 'transfers', value: 3 })).toMatchObject({ ok: true, value: { transfers: 3 } });
  });

  it('S4: from a sub-frame, another origin, another web contents, a gone frame or no window: FORBIDDEN, nothing changed', async () => {
    const before = await observable();
    const stranger = new WebContentsDouble();
    const senders = [
      { sender: contents, senderFrame: frame('app://netfs/index.html', contents.mainFrame) },
      { sender: contents, senderFrame: frame('https://evil.example/', contents.mainFrame) },
      { sender: contents, senderFrame: { ...contents.mainFrame, url: 'https://evil.example/' } },
      { sender: contents, senderFrame: { ...contents.mainFrame, url: 'file:///etc/passwd' } },
      { sender: contents, senderFrame: { ...contents.mainFrame, frameToken: 'another-top-frame' } },
      { sender: contents, senderFrame: null },
      { sender: stranger, senderFrame: stranger.mainFrame },
    ];
    for (const sender of senders) {
      for (const [command, args] of [
        ['settings.set', { key: 'transfers', value: 9 }],
        ['sync.pause', {}],
        ['files.unpin', { path: '/docs' }],
      ] as const) {
        const r = await call(sender, command, args);
        expect(r, `${command} from ${sender.senderFrame?.url}`).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      }
    }
    window.destroyed = true;
    expect(await call(top(), 'sync.pause', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: 'IPC refused: no app window' } });
    window.destroyed = false;
    expect(await observable()).toEqual(before);
  });

  it('S4: unknown commands (prototype names too) and bad arguments are refused with nothing changed', async () => {
    const before = await observable();
    for (const command of ['fs.readFile', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 42, null, { toString: () => 'sync.pause' }]) {
      expect(await call(top(), command, {}), String(command)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    for (const args of [{ key: 'transfers', value: '9' }, { key: 'transfers', value: 9, extra: true }, { key: 'transfers' }, 'transfers=9', [9]]) {
      expect(await call(top(), 'settings.set', args), JSON.stringify(args)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    expect(await call(top(), 'sync.pause', { now: true })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await observable()).toEqual(before);
  });

  it('S4: path arguments outside the sync root are refused with nothing changed', async () => {
    const before = await observable();
    for (const path of ['/../etc', '/docs/../../etc/passwd', '../x', '/docs/./a.txt', 'docs', '/docs/', '/a\\..\\b', '/a\0b', `/${'x'.repeat(5000)}`]) {
      for (const command of ['files.pin', 'files.unpin', 'files.open', 'files.list', 'files.preview', 'failures.retry']) {
        const r = await call(top(), command, { path });
        expect(r, `${command} ${path.slice(0, 40)}`).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      }
    }
    expect(await observable()).toEqual(before);
  });

  it('events: only the window\'s top frame can subscribe; updates arrive on netfs:event and match the contract', async () => {
    expect(parseStreams(['log', 'nope'])).toBeNull();
    expect(parseStreams('sync.status')).toBeNull();
    expect(parseStreams(['log', 'log'])).toEqual(['log']);
    ipcMain.emit({ sender: contents, senderFrame: frame('app://netfs/', contents.mainFrame) }, 'netfs:subscribe', ['sync.status']);
    ipcMain.emit(top(), 'netfs:subscribe', ['sync.status', 'not-a-stream']);
    await new Promise((r) => setTimeout(r, 300));
    expect(contents.sent).toEqual([]);
    ipcMain.emit(top(), 'netfs:subscribe', ['sync.status', 'cache.occupancy']);
    await expect.poll(() => new Set(contents.sent.map((m) => (m.args[0] as { stream: string }).stream)), { timeout: 10_000 }).toEqual(new Set(['sync.status', 'cache.occupancy']));
    for (const m of contents.sent) {
      expect(m.channel).toBe('netfs:event');
      expect(checkEvent(m.args[0])).not.toBeNull();
    }
    // An empty list ends the subscription.
    ipcMain.emit(top(), 'netfs:subscribe', []);
    const count = contents.sent.length;
    await service.handlers['settings.set']({ key: 'transfers', value: 2 });
    await new Promise((r) => setTimeout(r, 300));
    expect(contents.sent.length).toBe(count);
  });

  it('an after-hook that throws turns into an IO answer (the renderer never sees a rejected invoke)', async () => {
    const other = new IpcMainDouble();
    const off = installIpc({
      ipcMain: other as never,
      service,
      window: () => window,
      after: async () => {
        throw new Error('openPath exploded');
      },
    });
    try {
      expect(await other.invoke(top(), 'netfs:call', 'account.get', {})).toEqual({ ok: false, error: { code: 'IO', message: 'account.get: openPath exploded' } });
      // Refused calls never reach the hook.
      expect(await other.invoke({ sender: new WebContentsDouble(), senderFrame: frame('app://netfs/') }, 'netfs:call', 'account.get', {})).toMatchObject({ error: { code: 'FORBIDDEN' } });
    } finally {
      off();
    }
    expect(other.handlers.size).toBe(0);
  });

  it('senderRefusal names why', () => {
    expect(senderRefusal({ sender: contents as never, senderFrame: contents.mainFrame as never }, window)).toBeNull();
    expect(senderRefusal({ sender: contents as never, senderFrame: contents.mainFrame as never }, null)).toBe('no app window');
    expect(senderRefusal({ sender: contents as never, senderFrame: { ...contents.mainFrame, url: 'app://netfs.evil/' } as never }, window)).toBe('not the app origin');
  });
});

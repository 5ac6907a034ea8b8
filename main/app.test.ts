// The whole main process (runApp) against the real app service on real state folders. The
// `electron` module is replaced by a test double (electron-double.ts) — the only module mocked
// here, because Electron's binary cannot be downloaded or run on these machines.
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initStateFolder, useSecretStore } from '../app/sync/state-folder.js';
import { BrowserWindowDouble, WebContentsDouble, electronDouble, frame, resetElectronDouble } from './electron-double.js';

vi.mock('electron', async () => {
  const { electronDouble: double } = await import('./electron-double.js');
  return { ...double, default: double };
});

const { runApp, parseAppArgs } = await import('./app.js');

let tmp: string;

beforeEach(async () => {
  resetElectronDouble();
  useSecretStore(null);
  tmp = await mkdtemp(join(tmpdir(), 'netfs-app-'));
  electronDouble.app.appPath = join(tmp, 'app');
  electronDouble.app.userData = join(tmp, 'user-data');
});

afterEach(async () => {
  // Quit what runApp started (closes the service and its engine lock).
  if (electronDouble.app.listenerCount('before-quit') > 0) {
    electronDouble.app.quit();
    await vi.waitFor(() => expect(electronDouble.app.exitCodes).toEqual([0]), { timeout: 30_000 });
  }
  useSecretStore(null);
  await rm(tmp, { recursive: true, force: true });
});

const PASSWORD = 'pa55-Wörd-in-the-CLI-secret';

async function cliStateFolder(): Promise<string> {
  const state = join(tmp, 'state');
  const remote = join(tmp, 'remote');
  await mkdir(remote);
  await initStateFolder(state, { remote: `file://${remote}`, local: join(tmp, 'sync'), user: 'ann', password: PASSWORD });
  useSecretStore(null);
  return state;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('runApp (S1, S2, S6 with the real app service)', () => {
  it('parses --state DIR / --state=DIR and the weak-storage flag', () => {
    expect(parseAppArgs(['electron', '.', '--state', 'x/y'])).toEqual({ state: join(process.cwd(), 'x/y'), allowWeakSecrets: false });
    expect(parseAppArgs(['app', '--state=/s', '--allow-weak-secret-storage'])).toEqual({ state: '/s', allowWeakSecrets: true });
    expect(parseAppArgs(['app'])).toEqual({ state: null, allowWeakSecrets: false });
  });

  it('S1: every BrowserWindow the app creates has the secure web preferences and the bundled preload', async () => {
    await runApp(['electron', '.']);
    expect(BrowserWindowDouble.created.length).toBe(1);
    for (const w of BrowserWindowDouble.created) {
      const prefs = w.options.webPreferences as Record<string, unknown>;
      expect(prefs).toMatchObject({
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        disableBlinkFeatures: 'Auxclick',
      });
      expect(prefs).not.toHaveProperty('enableBlinkFeatures');
      expect(prefs).not.toHaveProperty('enableRemoteModule');
      expect(prefs).not.toHaveProperty('partition');
      expect(prefs.preload).toBe(join(tmp, 'app', 'dist', 'main', 'preload.cjs'));
      expect(w.webContents.loadedUrls).toEqual(['app://netfs/index.html']);
    }
    // The state folder defaults to the profile's, made private.
    expect((await stat(join(tmp, 'user-data', 'state'))).mode & 0o777).toBe(0o700);
    // A second launch shows the same window; no second window is made.
    electronDouble.app.emit('second-instance');
    expect(BrowserWindowDouble.created.length).toBe(1);
  });

  it('S2: the window and any web contents created later refuse navigation, new windows and webviews; permissions are denied', async () => {
    await runApp(['electron', '.', '--state', join(tmp, 'state')]);
    const later = new WebContentsDouble();
    electronDouble.app.emit('web-contents-created', {}, later);
    const win = BrowserWindowDouble.created[0]!.webContents;
    for (const contents of [win, later]) {
      for (const url of ['https://evil.example', 'https://app.example.attacker.com', 'file:///etc/passwd', 'javascript:alert(1)']) {
        expect(contents.navigate('will-navigate', url), url).toBe(true);
        expect(contents.navigate('will-redirect', url), url).toBe(true);
        expect(contents.openWindow(url), url).toEqual({ action: 'deny' });
      }
      expect(contents.navigate('will-navigate', 'app://netfs/index.html#/files')).toBe(false);
      let prevented = false;
      contents.emit('will-attach-webview', { preventDefault: () => (prevented = true) }, {}, {});
      expect(prevented).toBe(true);
    }
    // Only the https: ones were handed to the OS (window.open of a web link), each once per contents.
    await vi.waitFor(() => expect(electronDouble.shell.opened).toEqual(['https://evil.example/', 'https://app.example.attacker.com/', 'https://evil.example/', 'https://app.example.attacker.com/']));
    const granted: boolean[] = [];
    electronDouble.session.defaultSession.permissionRequestHandler?.({}, 'media', (g) => granted.push(g));
    expect(granted).toEqual([false]);
    expect(electronDouble.session.defaultSession.permissionCheckHandler?.()).toBe(false);
  });

  it('serves the UI from app:// (registered as a privileged standard scheme) and answers IPC only from the window', async () => {
    await runApp(['electron', '.', '--state', join(tmp, 'state')]);
    expect(electronDouble.protocol.privileged).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect([...electronDouble.protocol.handlers.keys()]).toEqual(['app']);
    const win = BrowserWindowDouble.created[0]!.webContents;
    const ok = await electronDouble.ipcMain.invoke({ sender: win, senderFrame: win.mainFrame }, 'netfs:call', 'account.get', {});
    expect(ok).toEqual({ ok: true, value: null });
    const stranger = new WebContentsDouble();
    const refused = await electronDouble.ipcMain.invoke({ sender: stranger, senderFrame: frame('app://netfs/index.html') }, 'netfs:call', 'account.get', {});
    expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
  });

  it('the tray shows the sync state from the sync.status stream', async () => {
    await runApp(['electron', '.', '--state', join(tmp, 'state')]);
    const tray = (electronDouble.Tray as unknown as { created: Array<{ tooltip: string; image: { path: string } }> }).created[0]!;
    await vi.waitFor(() => expect(tray.tooltip).toBe('netfs-sync: no account yet'));
    expect(tray.image.path).toBe(join(tmp, 'app', 'resources', 'icons', 'tray-idle.png'));
  });

  it('a second instance quits at once: no window, no service, no state folder', async () => {
    electronDouble.app.lockAvailable = false;
    await runApp(['electron', '.', '--state', join(tmp, 'state')]);
    expect(BrowserWindowDouble.created).toEqual([]);
    expect(electronDouble.app.quitCalls).toBe(1);
    await expect(stat(join(tmp, 'state'))).rejects.toThrow(/ENOENT/);
  });

  it('S6: opening a state folder the CLI made moves its plain secret into safeStorage (secret.enc), and nowhere else holds it', async () => {
    const state = await cliStateFolder();
    await runApp(['electron', '.', '--state', state]);
    expect(electronDouble.dialog.errors).toEqual([]);
    await expect(stat(join(state, 'secret'))).rejects.toThrow(/ENOENT/);
    expect((await stat(join(state, 'secret.enc'))).mode & 0o777).toBe(0o600);
    const sealed = await readFile(join(state, 'secret.enc'));
    expect(electronDouble.safeStorage.decryptString(sealed)).toBe(PASSWORD);
    // With the engine stopped (nothing half-written), no file but secret.enc holds the password.
    electronDouble.app.quit();
    await vi.waitFor(() => expect(electronDouble.app.exitCodes).toEqual([0]), { timeout: 30_000 });
    electronDouble.app.removeAllListeners('before-quit');
    for (const file of await filesUnder(state)) {
      const bytes = await readFile(file);
      expect(bytes.includes(Buffer.from(PASSWORD)), file).toBe(false);
    }
  });

  it('S6: with only the basic_text backend the app refuses, says why, and leaves the CLI folder as it was', async () => {
    const state = await cliStateFolder();
    electronDouble.safeStorage.mode = 'basic_text';
    await runApp(['electron', '.', '--state', state]);
    expect(electronDouble.dialog.errors).toHaveLength(1);
    expect(electronDouble.dialog.errors[0]!.content).toMatch(/plain-text backend.*--allow-weak-secret-storage/);
    expect(electronDouble.dialog.errors[0]!.content).not.toContain(PASSWORD);
    expect(BrowserWindowDouble.created).toEqual([]);
    expect(await readFile(join(state, 'secret'), 'utf8')).toBe(PASSWORD);
    await expect(stat(join(state, 'secret.enc'))).rejects.toThrow(/ENOENT/);
  });
});

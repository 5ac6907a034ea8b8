/**
 * The Electron app's life: one instance, the engine in this (main) process, one guarded window,
 * a tray icon, IPC derived from the contract.
 *
 *   runApp(argv)
 *     app:// registered as privileged        (before ready)
 *     single-instance lock   --taken--> quit (the running one shows its window)
 *     every web contents: guardNavigation; every permission request: denied
 *     whenReady
 *       app:// served from dist/renderer      (protocol.ts)
 *       secrets through safeStorage           (credentials.ts; a CLI-left `secret` is moved)
 *       AppService.open(state folder)         (app/host/service.ts; fails -> error box, quit)
 *       ipc (ipc.ts) + "open" (open-file.ts) + tray (tray.ts) + window (window.ts)
 *     quit: IPC removed, tray removed, service closed, then exit
 *
 * The state folder: --state DIR, else <userData>/state.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BrowserWindow as BrowserWindowType } from 'electron';
import { app, dialog, ipcMain, protocol, safeStorage, session, shell } from 'electron';
import { AppService } from '../app/host/service.js';
import { useSecretStore } from '../app/sync/state-folder.js';
import { ALLOW_WEAK_SECRETS_FLAG, KeyringSecrets } from './credentials.js';
import { installIpc } from './ipc.js';
import { useElectronSqlite } from './native-sqlite.js';
import { guardNavigation } from './navigation.js';
import { openAfterCall } from './open-file.js';
import { installAppProtocol, registerAppScheme } from './protocol.js';
import { createTray } from './tray.js';
import { createMainWindow } from './window.js';

export interface AppArgs {
  /** The state folder, or null for the profile's default (<userData>/state). */
  state: string | null;
  allowWeakSecrets: boolean;
}

/** Reads the app's own flags from argv (Chromium's and Electron's are left alone). */
export function parseAppArgs(argv: readonly string[]): AppArgs {
  let state: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--state' && i + 1 < argv.length) state = argv[++i] ?? null;
    else if (arg.startsWith('--state=')) state = arg.slice('--state='.length);
  }
  return { state: state === null || state === '' ? null : resolve(state), allowWeakSecrets: argv.includes(ALLOW_WEAK_SECRETS_FLAG) };
}

/** Where the app's own files are, under app.getAppPath() (the repository, or app.asar). */
export function appFiles(appPath: string): { renderer: string; preload: string; icons: string; electronSqlite: string } {
  return {
    renderer: join(appPath, 'dist', 'renderer'),
    preload: join(appPath, 'dist', 'main', 'preload.cjs'),
    icons: join(appPath, 'resources', 'icons'),
    electronSqlite: join(appPath, 'dist', 'electron-native', 'better_sqlite3.node'),
  };
}

/** Runs the app; resolves once it is up (or has decided to quit). */
export async function runApp(argv: readonly string[] = process.argv): Promise<void> {
  const args = parseAppArgs(argv);
  registerAppScheme(protocol);
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  let window: BrowserWindowType | null = null;
  let showWindow = (): void => undefined;
  app.on('second-instance', () => showWindow());
  app.on('web-contents-created', (_event, contents) => guardNavigation(contents, shell));
  // A sync client lives in the tray: closing its window does not quit it.
  app.on('window-all-closed', () => undefined);

  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  const files = appFiles(app.getAppPath());
  installAppProtocol(protocol, files.renderer);
  // From a source checkout, better-sqlite3 in node_modules is built for Node; `npm start`
  // prepares an Electron build beside it (main/start.mjs). A packaged app has its own.
  if (!app.isPackaged) useElectronSqlite(files.electronSqlite);
  useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: args.allowWeakSecrets }));

  const stateDir = args.state ?? join(app.getPath('userData'), 'state');
  let service: AppService;
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    service = await AppService.open(stateDir);
  } catch (e) {
    dialog.showErrorBox('netfs-sync cannot start', `${e instanceof Error ? e.message : String(e)}\n\nState folder: ${stateDir}`);
    app.quit();
    return;
  }

  const removeIpc = installIpc({ ipcMain, service, window: () => window, after: openAfterCall(shell, service) });
  showWindow = () => {
    if (window === null || window.isDestroyed()) {
      window = createMainWindow({ preload: files.preload, icon: join(files.icons, 'icon.png'), shell });
      window.on('closed', () => {
        window = null;
      });
      return;
    }
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };
  let quitting = false;
  const quit = (): void => app.quit();
  const removeTray = createTray({ iconsDir: files.icons, service, showWindow: () => showWindow(), quit });
  app.on('activate', () => showWindow());
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    removeIpc();
    removeTray();
    void service.close().finally(() => app.exit(0));
  });
  showWindow();
}

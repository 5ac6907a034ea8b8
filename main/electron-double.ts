/**
 * A test double of the `electron` module, for the main/ tests only. Electron's binary cannot be
 * downloaded or run on the project's machines (DESIGN §8), so these tests replace the one
 * module `electron` with this object (`vi.mock('electron', …)`); everything else they touch is
 * real (files, the contract, the app service, SQLite).
 *
 *   electronDouble.app          EventEmitter + whenReady/requestSingleInstanceLock/getPath/quit
 *   electronDouble.BrowserWindow records every construction (S1) with its webContents double
 *   electronDouble.ipcMain      handle/on, plus invoke()/emit() to drive them as Electron would
 *   electronDouble.shell, .protocol, .session, .safeStorage, .Tray, .Menu, .nativeImage,
 *   .dialog, .contextBridge, .ipcRenderer   record what the code asked for
 *
 * It models the parts of Electron's behaviour the code relies on (event shapes, preventDefault,
 * the window-open handler's answer, safeStorage's availability and backend), nothing more.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

export interface FrameDouble {
  url: string;
  frameToken: string;
  parent: FrameDouble | null;
}

let tokens = 0;

export function frame(url: string, parent: FrameDouble | null = null): FrameDouble {
  return { url, frameToken: `frame-${++tokens}`, parent };
}

/** A navigation-style event: `preventDefault` is remembered. */
export function navEvent(url: string): { url: string; defaultPrevented: boolean; preventDefault(): void } {
  return {
    url,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}

export class WebContentsDouble extends EventEmitter {
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  mainFrame: FrameDouble = frame('app://netfs/index.html');
  windowOpenHandler: ((details: { url: string }) => { action: 'allow' | 'deny' }) | null = null;
  destroyed = false;
  loadedUrls: string[] = [];

  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'allow' | 'deny' }): void {
    this.windowOpenHandler = handler;
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args });
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Emits a navigation event as Electron does (event first, then the URL); says whether it was prevented. */
  navigate(name: 'will-navigate' | 'will-redirect' | 'will-frame-navigate', url: string): boolean {
    const event = navEvent(url);
    this.emit(name, event, url, false, true);
    return event.defaultPrevented;
  }

  /** Asks the window-open handler as window.open would. */
  openWindow(url: string): { action: 'allow' | 'deny' } | null {
    return this.windowOpenHandler?.({ url }) ?? null;
  }
}

export class BrowserWindowDouble extends EventEmitter {
  static readonly created: BrowserWindowDouble[] = [];
  readonly options: Record<string, unknown>;
  readonly webContents = new WebContentsDouble();
  destroyed = false;
  shown = false;

  constructor(options: Record<string, unknown> = {}) {
    super();
    this.options = options;
    BrowserWindowDouble.created.push(this);
  }

  loadURL(url: string): Promise<void> {
    this.webContents.loadedUrls.push(url);
    return Promise.resolve();
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  isMinimized(): boolean {
    return false;
  }

  restore(): void {}

  show(): void {
    this.shown = true;
  }

  focus(): void {}
}

type Handler = (event: unknown, ...args: unknown[]) => unknown;

export class IpcMainDouble {
  readonly handlers = new Map<string, Handler>();
  readonly listeners = new Map<string, Set<Handler>>();

  handle(channel: string, handler: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  on(channel: string, listener: Handler): this {
    const set = this.listeners.get(channel) ?? new Set();
    set.add(listener);
    this.listeners.set(channel, set);
    return this;
  }

  removeListener(channel: string, listener: Handler): this {
    this.listeners.get(channel)?.delete(listener);
    return this;
  }

  /** What ipcRenderer.invoke(channel, …args) would get back from the sender described. */
  async invoke(sender: { sender: unknown; senderFrame: FrameDouble | null }, channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
    return handler(sender, ...args);
  }

  /** What ipcRenderer.send(channel, …args) would do. */
  emit(sender: { sender: unknown; senderFrame: FrameDouble | null }, channel: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(channel) ?? []) l(sender, ...args);
  }
}

/**
 * safeStorage as on a machine with a keyring (AES-256-GCM under a key only the double holds),
 * one without any ('unavailable'), or Linux's hard-coded-key backend ('basic_text').
 */
export class SafeStorageDouble {
  mode: 'keyring' | 'unavailable' | 'basic_text' = 'keyring';
  readonly #key = randomBytes(32);

  isEncryptionAvailable(): boolean {
    return this.mode !== 'unavailable';
  }

  getSelectedStorageBackend(): string {
    return this.mode === 'basic_text' ? 'basic_text' : this.mode === 'keyring' ? 'gnome_libsecret' : 'unknown';
  }

  encryptString(plain: string): Buffer {
    if (this.mode === 'unavailable') throw new Error('Error while encrypting the text provided to safeStorage.encryptString. Encryption is not available.');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from('v11'), iv, cipher.getAuthTag(), body]);
  }

  decryptString(sealed: Buffer): string {
    if (this.mode === 'unavailable') throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString. Decryption is not available.');
    if (sealed.subarray(0, 3).toString() !== 'v11') throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(3, 15));
    decipher.setAuthTag(sealed.subarray(15, 31));
    return Buffer.concat([decipher.update(sealed.subarray(31)), decipher.final()]).toString('utf8');
  }
}

class AppDouble extends EventEmitter {
  lockAvailable = true;
  isPackaged = false;
  appPath = process.cwd();
  userData = '/nonexistent-user-data';
  quitCalls = 0;
  exitCodes: number[] = [];

  requestSingleInstanceLock(): boolean {
    return this.lockAvailable;
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  getAppPath(): string {
    return this.appPath;
  }

  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`getPath(${name}) is not modelled`);
    return this.userData;
  }

  quit(): void {
    this.quitCalls++;
    const event = navEvent('');
    this.emit('before-quit', event);
  }

  exit(code = 0): void {
    this.exitCodes.push(code);
  }
}

class TrayDouble extends EventEmitter {
  static readonly created: TrayDouble[] = [];
  image: unknown;
  tooltip = '';
  menu: unknown = null;
  destroyed = false;

  constructor(image: unknown) {
    super();
    this.image = image;
    TrayDouble.created.push(this);
  }

  setImage(image: unknown): void {
    this.image = image;
  }

  setToolTip(tooltip: string): void {
    this.tooltip = tooltip;
  }

  setContextMenu(menu: unknown): void {
    this.menu = menu;
  }

  destroy(): void {
    this.destroyed = true;
  }
}

/** Every piece of the double, reset between tests with `resetElectronDouble`. */
export const electronDouble = {
  app: new AppDouble(),
  BrowserWindow: BrowserWindowDouble,
  ipcMain: new IpcMainDouble(),
  safeStorage: new SafeStorageDouble(),
  protocol: {
    privileged: [] as unknown[],
    handlers: new Map<string, (request: Request) => Promise<Response>>(),
    registerSchemesAsPrivileged(schemes: unknown[]): void {
      this.privileged.push(...schemes);
    },
    handle(scheme: string, handler: (request: Request) => Promise<Response>): void {
      this.handlers.set(scheme, handler);
    },
  },
  shell: {
    opened: [] as string[],
    openedPaths: [] as string[],
    revealed: [] as string[],
    openExternal(url: string): Promise<void> {
      this.opened.push(url);
      return Promise.resolve();
    },
    openPath(path: string): Promise<string> {
      this.openedPaths.push(path);
      return Promise.resolve('');
    },
    showItemInFolder(path: string): void {
      this.revealed.push(path);
    },
  },
  session: {
    defaultSession: {
      permissionRequestHandler: null as null | ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void),
      permissionCheckHandler: null as null | ((...args: unknown[]) => boolean),
      setPermissionRequestHandler(h: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void): void {
        this.permissionRequestHandler = h;
      },
      setPermissionCheckHandler(h: (...args: unknown[]) => boolean): void {
        this.permissionCheckHandler = h;
      },
    },
  },
  dialog: {
    errors: [] as Array<{ title: string; content: string }>,
    showErrorBox(title: string, content: string): void {
      this.errors.push({ title, content });
    },
  },
  Tray: TrayDouble,
  Menu: {
    buildFromTemplate(items: unknown[]): { items: unknown[] } {
      return { items };
    },
  },
  nativeImage: {
    createFromPath(path: string): { path: string } {
      return { path };
    },
    createEmpty(): { path: null } {
      return { path: null };
    },
  },
  contextBridge: {
    exposed: new Map<string, unknown>(),
    exposeInMainWorld(key: string, api: unknown): void {
      if (this.exposed.has(key)) throw new Error(`Cannot bind an API on top of an existing property on the window object`);
      this.exposed.set(key, api);
    },
  },
  ipcRenderer: Object.assign(new EventEmitter(), {
    invoked: [] as Array<{ channel: string; args: unknown[] }>,
    sentMessages: [] as Array<{ channel: string; args: unknown[] }>,
    answer: (async () => undefined) as (channel: string, ...args: unknown[]) => Promise<unknown>,
    invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      this.invoked.push({ channel, args });
      return this.answer(channel, ...args);
    },
    send(channel: string, ...args: unknown[]): void {
      this.sentMessages.push({ channel, args });
    },
  }),
};

/** Forgets everything recorded (windows, trays, handlers, calls). */
export function resetElectronDouble(): void {
  const d = electronDouble;
  d.app.removeAllListeners();
  Object.assign(d.app, { lockAvailable: true, isPackaged: false, quitCalls: 0, exitCodes: [] });
  BrowserWindowDouble.created.length = 0;
  TrayDouble.created.length = 0;
  d.ipcMain.handlers.clear();
  d.ipcMain.listeners.clear();
  d.safeStorage.mode = 'keyring';
  d.protocol.privileged.length = 0;
  d.protocol.handlers.clear();
  d.shell.opened.length = 0;
  d.shell.openedPaths.length = 0;
  d.shell.revealed.length = 0;
  d.session.defaultSession.permissionRequestHandler = null;
  d.session.defaultSession.permissionCheckHandler = null;
  d.dialog.errors.length = 0;
  d.contextBridge.exposed.clear();
  d.ipcRenderer.removeAllListeners();
  d.ipcRenderer.invoked.length = 0;
  d.ipcRenderer.sentMessages.length = 0;
}

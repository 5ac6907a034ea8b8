/**
 * The tray icon: its picture and tooltip follow the sync state (the `sync.status` event
 * stream), its menu opens the window, pauses or resumes, syncs now, or quits.
 *
 *   service.subscribe(['sync.status']) --update--> trayView(status) --> setImage + setToolTip
 *                                                                    --> menu (Pause | Resume)
 */
import { join } from 'node:path';
import type { Menu as MenuType, MenuItemConstructorOptions, NativeImage, Tray as TrayType } from 'electron';
import { Menu, Tray, nativeImage } from 'electron';
import type { SyncStatus } from '../app/api/contract.js';
import type { EngineService } from './ipc.js';
import { TRAY_ICONS, trayView, type TrayIcon } from './tray-view.js';

export interface TrayOptions {
  iconsDir: string;
  service: EngineService;
  showWindow: () => void;
  quit: () => void;
}

/** Creates the tray icon and keeps it current; returns its removal. */
export function createTray(options: TrayOptions): () => void {
  const images = new Map<TrayIcon, NativeImage>(TRAY_ICONS.map((name) => [name, nativeImage.createFromPath(join(options.iconsDir, `tray-${name}.png`))]));
  const image = (name: TrayIcon): NativeImage => images.get(name) ?? nativeImage.createEmpty();
  let view = trayView(null);
  const tray: TrayType = new Tray(image(view.icon));

  const run = (command: 'sync.pause' | 'sync.resume' | 'sync.now'): void => {
    void options.service.handlers[command]({}).catch(() => undefined);
  };
  const menu = (): MenuType => {
    const items: MenuItemConstructorOptions[] = [
      { label: 'Open netfs-sync', click: options.showWindow },
      { type: 'separator' },
      view.paused ? { label: 'Resume sync', click: () => run('sync.resume') } : { label: 'Pause sync', click: () => run('sync.pause') },
      { label: 'Sync now', click: () => run('sync.now') },
      { type: 'separator' },
      { label: 'Quit', click: options.quit },
    ];
    return Menu.buildFromTemplate(items);
  };
  const show = (): void => {
    tray.setImage(image(view.icon));
    tray.setToolTip(view.tooltip);
    tray.setContextMenu(menu());
  };
  show();
  tray.on('click', options.showWindow);

  const unsubscribe = options.service.subscribe(['sync.status'], (update) => {
    if (update.stream !== 'sync.status') return;
    const next = trayView(update.data as SyncStatus);
    if (next.icon === view.icon && next.tooltip === view.tooltip && next.paused === view.paused) return;
    view = next;
    show();
  });
  return () => {
    unsubscribe();
    tray.destroy();
  };
}

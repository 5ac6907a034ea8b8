/**
 * What the tray shows for a sync status: which picture (resources/icons/tray-<icon>.png), which
 * tooltip, and whether the menu offers Pause or Resume. Pure: tray.ts puts it on screen.
 *
 *   sync.status update --> trayView(status) --> { icon, tooltip, paused }
 */
import type { SyncStatus } from '../app/api/contract.js';

/** The tray pictures in resources/icons (tray-<name>.png). */
export const TRAY_ICONS = ['idle', 'syncing', 'paused', 'offline', 'error'] as const;
export type TrayIcon = (typeof TRAY_ICONS)[number];

export interface TrayView {
  icon: TrayIcon;
  tooltip: string;
  paused: boolean;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What the tray shows for a sync status (null: not known yet). */
export function trayView(status: SyncStatus | null): TrayView {
  const head = 'netfs-sync';
  if (status === null) return { icon: 'idle', tooltip: `${head}: starting`, paused: false };
  const s = status.sync;
  const account = status.account === null ? '' : ` (${status.account.remote})`;
  switch (s.state) {
    case 'unconfigured':
      return { icon: 'idle', tooltip: `${head}: no account yet`, paused: false };
    case 'idle': {
      const conflicts = status.lastPass?.conflicts ?? 0;
      const failed = status.lastPass?.failed ?? 0;
      const notes = [conflicts > 0 ? plural(conflicts, 'conflict') : '', failed > 0 ? plural(failed, 'failure') : ''].filter((x) => x !== '');
      return { icon: failed > 0 ? 'error' : 'idle', tooltip: `${head}: up to date${account}${notes.length > 0 ? ` — ${notes.join(', ')}` : ''}`, paused: false };
    }
    case 'syncing':
      return { icon: 'syncing', tooltip: `${head}: syncing${account}`, paused: false };
    case 'paused':
      return { icon: 'paused', tooltip: `${head}: paused${account}`, paused: true };
    case 'offline':
      return { icon: 'offline', tooltip: `${head}: offline — ${s.lastError}`, paused: false };
    case 'held':
      return { icon: 'error', tooltip: `${head}: waiting for you — ${s.message}`, paused: false };
    case 'error':
      return { icon: 'error', tooltip: `${head}: error — ${s.message}`, paused: false };
  }
}

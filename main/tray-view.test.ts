// What the tray shows for each sync state (the pictures are checked in packaging.test.ts).
import { describe, expect, it } from 'vitest';
import type { SyncStatus } from '../app/api/contract.js';
import { trayView } from './tray-view.js';

const account = { remote: 'https://dav.example/files', user: 'ann', local: '/home/ann/Sync' };

function status(sync: SyncStatus['sync'], lastPass: Partial<NonNullable<SyncStatus['lastPass']>> | null = null): SyncStatus {
  return {
    account: sync.state === 'unconfigured' ? null : account,
    sync,
    lastPass: lastPass === null ? null : { finishedMs: 1, done: 0, failed: 0, conflicts: 0, bytesDown: 0, bytesUp: 0, held: null, ...lastPass },
    counts: {},
    rateDown: 0,
    rateUp: 0,
  };
}

describe('trayView', () => {
  it('one picture and tooltip per state; Pause or Resume in the menu', () => {
    expect(trayView(null)).toEqual({ icon: 'idle', tooltip: 'netfs-sync: starting', paused: false });
    expect(trayView(status({ state: 'unconfigured' }))).toEqual({ icon: 'idle', tooltip: 'netfs-sync: no account yet', paused: false });
    expect(trayView(status({ state: 'idle', lastPassMs: 5 }, {}))).toEqual({ icon: 'idle', tooltip: 'netfs-sync: up to date (https://dav.example/files)', paused: false });
    expect(trayView(status({ state: 'syncing', sinceMs: 1 }))).toMatchObject({ icon: 'syncing', tooltip: 'netfs-sync: syncing (https://dav.example/files)' });
    expect(trayView(status({ state: 'paused' }))).toEqual({ icon: 'paused', tooltip: 'netfs-sync: paused (https://dav.example/files)', paused: true });
    expect(trayView(status({ state: 'offline', sinceMs: 1, lastError: 'connection refused', nextTryMs: 2 }))).toMatchObject({ icon: 'offline', tooltip: 'netfs-sync: offline — connection refused' });
    expect(trayView(status({ state: 'held', reason: 'mass-delete', message: 'confirm deleting 120 files' }))).toMatchObject({ icon: 'error', tooltip: 'netfs-sync: waiting for you — confirm deleting 120 files' });
    expect(trayView(status({ state: 'error', code: 'AUTH', message: 'the server refused the password' }))).toMatchObject({ icon: 'error', tooltip: 'netfs-sync: error — the server refused the password' });
  });

  it('idle after a pass with conflicts or failures says so (failures turn the picture red)', () => {
    expect(trayView(status({ state: 'idle', lastPassMs: 5 }, { conflicts: 1 }))).toEqual({ icon: 'idle', tooltip: 'netfs-sync: up to date (https://dav.example/files) — 1 conflict', paused: false });
    expect(trayView(status({ state: 'idle', lastPassMs: 5 }, { conflicts: 2, failed: 3 }))).toEqual({ icon: 'error', tooltip: 'netfs-sync: up to date (https://dav.example/files) — 2 conflicts, 3 failures', paused: false });
  });
});

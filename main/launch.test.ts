// `npm start`'s launcher: the decision (pure), the probes on real folders, and the script run for
// real as a user runs it. Nothing here downloads Electron: every probe that could is pointed at
// a temp folder, and the real script runs where a window cannot be shown or the download is
// switched off (these machines have no Electron binary and no display).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decideLaunch, electronSqliteFiles, electronSqliteReady, findElectron, hasDisplay, headlessLine, installedElectron, lastLine, planLaunch, sqliteStamp } from './launch.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'netfs-launch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ELECTRON = { binary: '/opt/electron/electron' };

/** A node_modules/electron folder as npm leaves it; `installed` adds the downloaded binary. */
function electronDir(name: string, options: { installed?: boolean; installJs?: string } = {}): string {
  const dir = join(tmp, name, 'node_modules', 'electron');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'electron', version: '45.5.0' }));
  if (options.installJs !== undefined) writeFileSync(join(dir, 'install.js'), options.installJs);
  if (options.installed === true) {
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'path.txt'), 'electron');
    writeFileSync(join(dir, 'dist', 'electron'), '#!/bin/sh\n');
    chmodSync(join(dir, 'dist', 'electron'), 0o755);
  }
  return dir;
}

describe('npm start: the decision', () => {
  it('Linux without DISPLAY and WAYLAND_DISPLAY: headless, whatever Electron\'s state', () => {
    expect(decideLaunch({ platform: 'linux', env: {}, electron: ELECTRON })).toEqual({ kind: 'headless', reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' });
    expect(decideLaunch({ platform: 'linux', env: { DISPLAY: '' }, electron: ELECTRON }).kind).toBe('headless');
    expect(hasDisplay('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toBe(true);
    expect(hasDisplay('linux', { DISPLAY: ':0' })).toBe(true);
    // macOS and Windows always have one.
    expect(hasDisplay('darwin', {})).toBe(true);
    expect(hasDisplay('win32', {})).toBe(true);
  });

  it('a display and the binary (and its better-sqlite3 build): Electron', () => {
    expect(decideLaunch({ platform: 'linux', env: { DISPLAY: ':0' }, electron: ELECTRON, sqlite: { ready: true } })).toEqual({ kind: 'electron', binary: ELECTRON.binary });
    expect(decideLaunch({ platform: 'darwin', env: {}, electron: ELECTRON })).toEqual({ kind: 'electron', binary: ELECTRON.binary });
  });

  it('binary missing or better-sqlite3 not built for Electron: headless, with that reason; NETFS_HEADLESS asks for it', () => {
    expect(decideLaunch({ platform: 'win32', env: {}, electron: { missing: 'no binary' } })).toEqual({ kind: 'headless', reason: 'no binary' });
    expect(decideLaunch({ platform: 'darwin', env: {}, electron: ELECTRON, sqlite: { missing: 'no compiler' } })).toEqual({ kind: 'headless', reason: 'no compiler' });
    expect(decideLaunch({ platform: 'darwin', env: { NETFS_HEADLESS: '1' }, electron: ELECTRON })).toEqual({ kind: 'headless', reason: 'NETFS_HEADLESS is set' });
    expect(decideLaunch({ platform: 'darwin', env: { NETFS_HEADLESS: '0' }, electron: ELECTRON }).kind).toBe('electron');
  });

  it('the message is one line, even for a reason spread over several', () => {
    const line = headlessLine('download failed:\n  TypeError: fetch failed');
    expect(line).not.toContain('\n');
    expect(line).toBe('netfs-sync: cannot open the Electron window: download failed: TypeError: fetch failed; starting the headless host instead.');
    expect(lastLine('Downloading…\nTypeError: fetch failed\n    at FetchDownloader.download (x.js:1)\n')).toBe('TypeError: fetch failed');
  });
});

describe('npm start: the probes (real folders and processes)', () => {
  it('finds the binary npm\'s electron package points at, and only when it exists', () => {
    const dir = electronDir('installed', { installed: true });
    expect(installedElectron(dir)).toBe(join(dir, 'dist', 'electron'));
    rmSync(join(dir, 'dist', 'electron'));
    expect(installedElectron(dir)).toBeNull();
    expect(installedElectron(electronDir('never'))).toBeNull();
  });

  it('a missing binary is downloaded once, as require(\'electron\') would; a failed download is a one-line reason', () => {
    // install.js stands in for the download here: these machines cannot reach Electron's servers.
    const ok = electronDir('downloads', {
      installJs: "const fs=require('fs'),p=require('path');fs.mkdirSync(p.join(__dirname,'dist'));fs.writeFileSync(p.join(__dirname,'dist','electron'),'');fs.writeFileSync(p.join(__dirname,'path.txt'),'electron');",
    });
    expect(findElectron(ok, {})).toEqual({ binary: join(ok, 'dist', 'electron') });
    const fails = electronDir('offline', { installJs: "console.log('Downloading Electron binary...');console.error('TypeError: fetch failed\\n    at download (x.js:1:1)');process.exit(1);" });
    expect(findElectron(fails, {})).toEqual({ missing: 'the Electron binary is not installed and its download failed: TypeError: fetch failed' });
    expect(findElectron(fails, { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })).toEqual({ missing: 'the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD is set)' });
    expect(findElectron(join(tmp, 'nowhere'), {})).toEqual({ missing: 'the electron package is not installed (run npm install)' });
  });

  it('the Electron build of better-sqlite3 counts only with a stamp of this Electron and this better-sqlite3', () => {
    const project = join(tmp, 'project');
    mkdirSync(join(project, 'node_modules', 'better-sqlite3'), { recursive: true });
    electronDir('project');
    writeFileSync(join(project, 'node_modules', 'better-sqlite3', 'package.json'), JSON.stringify({ version: '12.11.1' }));
    const files = electronSqliteFiles(project);
    expect(electronSqliteReady(project)).toBe(false);
    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.addon, 'addon');
    expect(electronSqliteReady(project)).toBe(false);
    writeFileSync(files.stamp, sqliteStamp(project));
    expect(electronSqliteReady(project)).toBe(true);
    writeFileSync(join(project, 'node_modules', 'better-sqlite3', 'package.json'), JSON.stringify({ version: '12.12.0' }));
    expect(electronSqliteReady(project)).toBe(false);
  });

  it('planLaunch on this repository without a display decides at once: no download, no build', () => {
    const started = Date.now();
    expect(planLaunch(root, { PATH: process.env.PATH }, 'linux')).toEqual({ kind: 'headless', reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('npm start: the script, run for real', () => {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp };

  function start(extra: Record<string, string>): { status: number | null; lines: string[] } {
    const run = spawnSync(process.execPath, [join(root, 'main', 'start.mjs'), '--help'], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 60_000 });
    return { status: run.status, lines: `${run.stdout}`.split('\n').filter((l) => l !== '') };
  }

  it('without a display: one line why, then the headless host (or how to run it)', () => {
    const r = start({});
    expect(r.lines[0]).toBe('netfs-sync: cannot open the Electron window: no display (DISPLAY and WAYLAND_DISPLAY are unset); starting the headless host instead.');
    expect(r.lines.filter((l) => l.startsWith('netfs-sync: cannot open'))).toHaveLength(1);
    // `demo --help` when the CLI has `demo`; until then the serve instructions (exit 1).
    if (r.status === 0) expect(r.lines.join('\n')).toMatch(/demo/);
    else expect(r.lines[1]).toMatch(/node dist\/app\/cli\/netfs-sync\.js serve --state DIR/);
  });

  it('with a display but no Electron binary (downloads switched off): one line naming the missing binary', () => {
    const r = start({ DISPLAY: ':99', ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
    expect(r.lines[0]).toBe('netfs-sync: cannot open the Electron window: the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD is set); starting the headless host instead.');
  });
});

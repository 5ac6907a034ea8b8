/**
 * What `npm start` runs (main/start.mjs): the Electron window where Electron can run, else the
 * headless host, saying why in one line. Plain JavaScript (typechecked with its JSDoc by
 * main/tsconfig.json), so that the launcher needs no build step of its own.
 *
 *   NETFS_HEADLESS=1?                                  --> headless ("asked for")
 *   Linux without DISPLAY and WAYLAND_DISPLAY?         --> headless ("no display")
 *   Electron binary installed? no --> install it once (node_modules/electron/install.js, as
 *                                     `require('electron')` would) --> failed? --> headless
 *   better-sqlite3 built for this Electron? no --> build it into dist/electron-native
 *                                     (@electron/rebuild on a copy) --> failed? --> headless
 *   --> electron <repo> [args]
 *
 *   headless = `node dist/app/cli/netfs-sync.js demo` when the CLI has `demo`, else the
 *   instructions for `netfs-sync serve`.
 *
 * `decideLaunch` is pure (facts in, plan out); the probes below gather the facts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @typedef {Readonly<Record<string, string | undefined>>} Env */
/** @typedef {{ binary: string } | { missing: string }} ElectronFact */
/** @typedef {{ ready: true } | { missing: string }} SqliteFact */
/**
 * @typedef {object} LaunchFacts
 * @property {NodeJS.Platform} platform
 * @property {Env} env
 * @property {ElectronFact} electron  the Electron executable, or why there is none
 * @property {SqliteFact} [sqlite]    the Electron build of better-sqlite3, or why there is none
 */
/** @typedef {{ kind: 'electron', binary: string } | { kind: 'headless', reason: string }} LaunchPlan */

/**
 * True when a window can be shown at all (Linux and the BSDs need an X or Wayland display).
 * @param {NodeJS.Platform} platform
 * @param {Env} env
 */
export function hasDisplay(platform, env) {
  if (platform !== 'linux' && platform !== 'freebsd' && platform !== 'openbsd') return true;
  return (env.DISPLAY ?? '') !== '' || (env.WAYLAND_DISPLAY ?? '') !== '';
}

/**
 * Why no window can be opened whatever Electron's state, or null.
 * @param {NodeJS.Platform} platform
 * @param {Env} env
 * @returns {string | null}
 */
export function preflight(platform, env) {
  if ((env.NETFS_HEADLESS ?? '') !== '' && env.NETFS_HEADLESS !== '0') return 'NETFS_HEADLESS is set';
  if (!hasDisplay(platform, env)) return 'no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  return null;
}

/**
 * Where to start, from what is known about this machine.
 * @param {LaunchFacts} facts
 * @returns {LaunchPlan}
 */
export function decideLaunch(facts) {
  const early = preflight(facts.platform, facts.env);
  if (early !== null) return { kind: 'headless', reason: early };
  if ('missing' in facts.electron) return { kind: 'headless', reason: facts.electron.missing };
  if (facts.sqlite !== undefined && 'missing' in facts.sqlite) return { kind: 'headless', reason: facts.sqlite.missing };
  return { kind: 'electron', binary: facts.electron.binary };
}

/**
 * The one line `npm start` prints before starting the headless host.
 * @param {string} reason
 */
export function headlessLine(reason) {
  return `netfs-sync: cannot open the Electron window: ${reason.replace(/\s+/g, ' ')}; starting the headless host instead.`;
}

/**
 * The Electron executable that node_modules/electron points at, when it is there.
 * @param {string} electronDir
 * @returns {string | null}
 */
export function installedElectron(electronDir) {
  try {
    const relative = readFileSync(join(electronDir, 'path.txt'), 'utf8').trim();
    const binary = join(electronDir, 'dist', relative);
    return relative !== '' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/**
 * The last line of a tool's output that says something (no stack frames), shortened.
 * @param {string} text
 */
export function lastLine(text) {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at '));
  return (lines[lines.length - 1] ?? '').slice(0, 160);
}

/**
 * @param {import('node:child_process').SpawnSyncReturns<string>} run
 */
function why(run) {
  return lastLine(`${run.stdout ?? ''}\n${run.stderr ?? ''}`) || `exit ${run.status ?? run.signal}`;
}

/**
 * Finds the Electron executable, downloading it once as `require('electron')` would.
 * @param {string} electronDir
 * @param {Env} env
 * @returns {ElectronFact}
 */
export function findElectron(electronDir, env) {
  const found = installedElectron(electronDir);
  if (found !== null) return { binary: found };
  if (!existsSync(join(electronDir, 'install.js'))) return { missing: 'the electron package is not installed (run npm install)' };
  if ((env.ELECTRON_SKIP_BINARY_DOWNLOAD ?? '') !== '') return { missing: 'the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD is set)' };
  const run = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
  const again = installedElectron(electronDir);
  if (again !== null) return { binary: again };
  return { missing: `the Electron binary is not installed and its download failed: ${why(run)}` };
}

/**
 * Where the Electron build of better-sqlite3 goes, and the stamp saying what it was built for.
 * @param {string} root
 */
export function electronSqliteFiles(root) {
  const dir = join(root, 'dist', 'electron-native');
  return { dir, addon: join(dir, 'better_sqlite3.node'), stamp: join(dir, 'stamp.json') };
}

/**
 * @param {string} packageDir
 * @returns {string}
 */
function versionOf(packageDir) {
  return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
}

/**
 * The stamp an up-to-date Electron build of better-sqlite3 carries.
 * @param {string} root
 */
export function sqliteStamp(root) {
  const modules = join(root, 'node_modules');
  return JSON.stringify({ electron: versionOf(join(modules, 'electron')), betterSqlite3: versionOf(join(modules, 'better-sqlite3')), platform: process.platform, arch: process.arch });
}

/**
 * True when dist/electron-native holds better-sqlite3 built for the installed Electron.
 * @param {string} root
 */
export function electronSqliteReady(root) {
  const files = electronSqliteFiles(root);
  try {
    return existsSync(files.addon) && readFileSync(files.stamp, 'utf8') === sqliteStamp(root);
  } catch {
    return false;
  }
}

/**
 * Builds better-sqlite3 for the installed Electron into dist/electron-native, leaving
 * node_modules (built for Node: the CLI, the headless host, the tests) untouched: a copy of the
 * package is rebuilt by @electron/rebuild (a prebuilt binary when one exists, else node-gyp with
 * Electron's headers). main/native-sqlite.ts loads it in the main process.
 * @param {string} root
 * @returns {SqliteFact}
 */
export function prepareElectronSqlite(root) {
  if (electronSqliteReady(root)) return { ready: true };
  const files = electronSqliteFiles(root);
  const work = join(files.dir, `build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  try {
    const modules = join(root, 'node_modules');
    mkdirSync(join(work, 'node_modules'), { recursive: true });
    const source = join(modules, 'better-sqlite3');
    cpSync(source, join(work, 'node_modules', 'better-sqlite3'), { recursive: true, filter: (src) => !src.startsWith(join(source, 'build')) });
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'netfs-electron-native', private: true, dependencies: { 'better-sqlite3': '*' } }));
    const cli = join(modules, '@electron', 'rebuild', 'lib', 'cli.js');
    const run = spawnSync(process.execPath, [cli, '--version', versionOf(join(modules, 'electron')), '--module-dir', work, '--only', 'better-sqlite3', '--force'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15 * 60_000,
    });
    const built = join(work, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    if (run.status !== 0 || !existsSync(built)) return { missing: `better-sqlite3 could not be built for Electron: ${why(run)}` };
    renameSync(built, files.addon);
    writeFileSync(files.stamp, sqliteStamp(root));
    return { ready: true };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Gathers the facts and decides; downloads or builds nothing when no window could be shown.
 * @param {string} root
 * @param {Env} [env]
 * @param {NodeJS.Platform} [platform]
 * @returns {LaunchPlan}
 */
export function planLaunch(root, env = process.env, platform = process.platform) {
  const early = preflight(platform, env);
  if (early !== null) return { kind: 'headless', reason: early };
  const electron = findElectron(join(root, 'node_modules', 'electron'), env);
  if ('missing' in electron) return decideLaunch({ platform, env, electron });
  return decideLaunch({ platform, env, electron, sqlite: prepareElectronSqlite(root) });
}

/**
 * The headless command: `demo` when the built CLI has it, else null (print how to run `serve`).
 * @param {string} root
 * @returns {string[] | null}
 */
export function headlessCommand(root) {
  const cli = join(root, 'dist', 'app', 'cli', 'netfs-sync.js');
  if (!existsSync(cli)) return null;
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', timeout: 60_000 });
  return /^\s+demo\b/m.test(help.stdout ?? '') ? [cli, 'demo'] : null;
}

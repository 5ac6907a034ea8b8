/**
 * better-sqlite3 inside Electron from a source checkout. node_modules/better-sqlite3 is built
 * for Node (the CLI, the headless host and the tests use it); Electron's Node has another ABI.
 * `npm start` builds a second copy of the addon for Electron into dist/electron-native
 * (main/launch.ts), and the main process loads that copy in place of the first:
 *
 *   better-sqlite3  --bindings('better_sqlite3.node')-->  require(<pkg>/build/Release/better_sqlite3.node)
 *                                                            | require.cache hit
 *   useElectronSqlite(dist/electron-native/better_sqlite3.node)
 *        process.dlopen(copy) --> Module registered under <pkg>/build/Release/better_sqlite3.node
 *
 * A packaged app never does this: electron-builder rebuilds better-sqlite3 for Electron when it
 * packages (npmRebuild, electron-builder.yml).
 */
import { existsSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where better-sqlite3 loads its addon from (bindings tries build/Release before anything that exists). */
export function sqliteAddonPath(from: string = import.meta.url): string {
  const require = createRequire(from);
  return join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
}

/**
 * Makes better-sqlite3 use the addon at `addonPath` (when it exists). Must run before the first
 * database is opened. Returns whether it did.
 */
export function useElectronSqlite(addonPath: string, from: string = import.meta.url): boolean {
  if (!existsSync(addonPath)) return false;
  const target = sqliteAddonPath(from);
  const require = createRequire(from);
  const mod = new Module(target);
  mod.filename = target;
  process.dlopen(mod, addonPath);
  mod.loaded = true;
  require.cache[target] = mod;
  return true;
}

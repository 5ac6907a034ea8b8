// S5 (and S13's Electron line): the packaging config, read by electron-builder's own loader and
// checked against its own schema. Packaging itself needs the Electron download, which these
// machines cannot make, so the fuses are checked in the config, not read back from a binary.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FuseOptionsV1 } from 'app-builder-lib';
import type { Configuration } from 'electron-builder';
import { describe, expect, it } from 'vitest';
import { TRAY_ICONS } from './tray-view.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

// electron-builder's config reader and validator (app-builder-lib and builder-util are the
// packages electron-builder itself runs them from).
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: Configuration | null): Promise<Configuration>;
  validateConfiguration(config: Configuration, debugLogger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

/** The fuses S5 asks for; `satisfies` makes a misspelt or unknown name a type error. */
const S5_FUSES = {
  runAsNode: false,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
} satisfies FuseOptionsV1;

async function loadConfig(): Promise<Configuration> {
  return getConfig(root, 'electron-builder.yml', null);
}

function pngSize(file: string): { width: number; height: number } {
  const data = readFileSync(file);
  expect(data.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(data.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

describe('electron-builder.yml (S5)', () => {
  it('is accepted by electron-builder\'s schema, which refuses an unknown fuse name', async () => {
    const config = await loadConfig();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    const misspelt = { ...config, electronFuses: { ...config.electronFuses, runAsNodee: false } } as Configuration;
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(/Invalid configuration object[\s\S]*configuration\.electronFuses/);
  });

  it('S5: RunAsNode, NODE_OPTIONS and --inspect off; asar integrity and only-load-from-asar on; file:// privileges off', async () => {
    const config = await loadConfig();
    expect(config.electronFuses).toMatchObject(S5_FUSES);
    expect(config.asar).toBe(true);
  });

  it('S5: every fuse name in the file is declared in electron-builder\'s FuseOptionsV1 type', async () => {
    const config = await loadConfig();
    const dts = readFileSync(require.resolve('app-builder-lib/out/configuration.d.ts'), 'utf8');
    const body = /export interface FuseOptionsV1 \{([\s\S]*?)\n\}/.exec(dts)?.[1] ?? '';
    const declared = new Set([...body.matchAll(/^\s{4}(\w+)\?: boolean;/gm)].map((m) => m[1]));
    expect(declared.size).toBeGreaterThanOrEqual(8);
    for (const name of Object.keys(config.electronFuses ?? {})) expect(declared, name).toContain(name);
  });

  it('app id, product name and the Linux (AppImage, deb), Windows (nsis) and macOS (dmg) targets', async () => {
    const config = await loadConfig();
    expect(config.appId).toBe('org.netfs-sync.app');
    expect(config.productName).toBe('netfs-sync');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
  });

  it('icons come from resources/: a 512x512 PNG app icon and a 32x32 tray icon per sync state', async () => {
    const config = await loadConfig();
    for (const icon of [config.linux?.icon, config.win?.icon, config.mac?.icon]) {
      expect(icon).toBe('resources/icons/icon.png');
      expect(pngSize(`${root}/${icon}`)).toEqual({ width: 512, height: 512 });
    }
    for (const state of TRAY_ICONS) expect(pngSize(`${root}/resources/icons/tray-${state}.png`)).toEqual({ width: 32, height: 32 });
  });

  it('packs the built app and the resources, not tests, the test harness or build caches', async () => {
    const config = await loadConfig();
    // The loader normalises the list into file sets ({ filter: [...] }).
    const files = ((config.files ?? []) as Array<string | { filter?: string[] }>).flatMap((f) => (typeof f === 'string' ? [f] : (f.filter ?? [])));
    for (const want of ['package.json', 'dist/**', 'resources/**', '!dist/**/*.test.js', '!dist/app/testing/**', '!dist/tsbuildinfo/**', '!dist/electron-native/**']) {
      expect(files).toContain(want);
    }
  });

  it('better-sqlite3 is rebuilt for Electron when packaging (npmRebuild), and native addons are unpacked from the asar', async () => {
    const config = await loadConfig();
    expect(config.npmRebuild).toBe(true);
    expect(config.buildDependenciesFromSource).toBe(false);
    expect(config.asarUnpack).toContain('**/*.node');
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('better-sqlite3');
  });

  it('package.json: the Electron entry is dist/main/main.js; `npm run dist` builds and runs electron-builder with this file', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { main: string; scripts: Record<string, string> };
    expect(pkg.main).toBe('dist/main/main.js');
    expect(pkg.scripts.dist).toMatch(/electron-builder --config electron-builder\.yml$/);
    expect(pkg.scripts['build:electron']).toContain('node main/build-preload.mjs');
  });

  it('S13: Electron is a devDependency of a supported major (45, the newest published here)', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const installed = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
    expect(pkg.dependencies.electron).toBeUndefined();
    expect(Number(installed.split('.')[0])).toBeGreaterThanOrEqual(45);
  });
});

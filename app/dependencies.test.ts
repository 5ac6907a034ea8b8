// Every locked dependency must run on the Node this project supports (package.json engines),
// so that `npm ci` on a CI machine installs nothing that refuses, or crashes on, Node 20.20.
// Electron is the one exception: its download and native-rebuild tooling (used by `npm start`
// and electron-builder on a user's machine, never by the tests) asks for a newer Node.
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; os?: string[]; cpu?: string[] }>;
};
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const EXCEPTIONS = new Set(['electron', '@electron/get', '@electron-internal/extract-zip', '@electron/rebuild', 'node-abi']);

describe('dependencies', () => {
  it('every locked package allows the Node version this project supports', () => {
    const floor = semver.minVersion(pkg.engines.node)!;
    const refused: string[] = [];
    for (const [where, meta] of Object.entries(lock.packages)) {
      const name = where.replace(/^.*node_modules\//, '');
      const range = Array.isArray(meta.engines) ? undefined : meta.engines?.node;
      if (where === '' || range === undefined || EXCEPTIONS.has(name)) continue;
      // Platform-specific optional packages for other systems are never installed here.
      if (meta.optional === true && ((meta.os !== undefined && !meta.os.includes(process.platform)) || (meta.cpu !== undefined && !meta.cpu.includes(process.arch)))) continue;
      if (!semver.satisfies(floor, range) || !semver.satisfies(process.version, range)) refused.push(`${name} (${range})`);
    }
    expect(refused).toEqual([]);
  });
});

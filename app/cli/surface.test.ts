// Issue 5 item 9: every command and option of the CLI exists exactly so (other tools depend on
// it), and the package's bin runs as `node <bin>` after a build.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, cliProcess } from './testing.js';

const SURFACE: Record<string, string[]> = {
  init: ['--state', '--remote', '--local', '--user', '--password-env', '--ca'],
  sync: ['--state', '--once', '--yes', '--dry-run'],
  serve: ['--state', '--port'],
  status: ['--state', '--json'],
  ls: ['--state', '-R', '--json'],
  read: ['--state', '--offset', '--length'],
  pin: ['--state'],
  unpin: ['--state'],
  conflicts: ['--state', '--json'],
  resolve: ['--state', '--keep'],
  trash: ['--state', '--json'],
  config: ['--state'],
  stats: ['--state', '--json'],
  cache: ['--state', '--json'],
};

describe('the CLI surface', () => {
  for (const [command, options] of Object.entries(SURFACE)) {
    it(`${command} has ${options.join(' ')}`, async () => {
      const r = await cli(['help', command]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: netfs-sync ${command}\\b`, 'm'));
      for (const o of options) expect(r.stdout, `${command} ${o}`).toMatch(new RegExp(`(^|[ ,])${o}(\\b|[ ,])`, 'm'));
    });
  }

  it('package.json names the built CLI as its bin, and it runs as `node <bin>` (after npm run build)', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['netfs-sync']).toBe('dist/app/cli/netfs-sync.js');
    const r = await cliProcess(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

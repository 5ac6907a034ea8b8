import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { cli } from './testing.js';

let apache: ApacheServer;
let work: string;

beforeAll(async () => {
  apache = await startApache();
  work = await mkdtemp(join(tmpdir(), 'netfs-cli-init-'));
});
afterAll(async () => {
  await apache.stop();
  await rm(work, { recursive: true, force: true });
});

describe('netfs-sync init', () => {
  it('creates a 0700 state folder, keeps the password in a 0600 file and never prints it', async () => {
    const state = join(work, 'state-a');
    const local = join(work, 'local-a');
    const r = await cli(['init', '--state', state, '--remote', apache.url, '--local', local, '--user', apache.user, '--password-env', 'DAV_PW'], { DAV_PW: apache.password });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('initialised');
    expect(r.stdout + r.stderr).not.toContain(apache.password);
    expect((await stat(state)).mode & 0o777).toBe(0o700);
    expect((await stat(join(state, 'secret'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(state, 'secret'), 'utf8')).toBe(apache.password);
    expect(await readFile(join(state, 'account.json'), 'utf8')).not.toContain(apache.password);
    expect((await stat(join(local, '.netfs-root'))).isFile()).toBe(true);
    // What the probe found is kept: the first sync does not probe (write into the server) again.
    expect(JSON.parse(await readFile(join(state, 'capabilities.json'), 'utf8'))).toMatchObject({ remote: apache.url, capabilities: { ifMatchOnPut: true } });
  });

  it('refuses a state folder that is already initialised', async () => {
    const state = join(work, 'state-b');
    const args = ['init', '--state', state, '--remote', apache.url, '--local', join(work, 'local-b'), '--user', apache.user, '--password-env', 'DAV_PW'];
    expect((await cli(args, { DAV_PW: apache.password })).code).toBe(0);
    const again = await cli(args, { DAV_PW: apache.password });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already initialised/);
  });

  it('wrong password: exit 1 naming authentication, nothing written', async () => {
    const state = join(work, 'state-c');
    const r = await cli(['init', '--state', state, '--remote', apache.url, '--local', join(work, 'local-c'), '--user', apache.user, '--password-env', 'DAV_PW'], { DAV_PW: 'Zq9-not-the-password' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401|credential|auth/i);
    expect(r.stderr).not.toContain('Zq9-not-the-password');
    await expect(stat(join(state, 'account.json'))).rejects.toThrow();
  });

  it('unreachable server: exit 3', async () => {
    const r = await cli(['init', '--state', join(work, 'state-d'), '--remote', 'http://127.0.0.1:1/dav/', '--local', join(work, 'local-d')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1/);
  });

  it('bad usage: exit 2 with what was wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['init', '--state', join(work, 's'), '--remote', 'ftp://host/x', '--local', join(work, 'l')], /http\(s\):\/\/|file:/],
      [['init', '--state', join(work, 's'), '--remote', 'http://example.com/dav/', '--local', join(work, 'l')], /clear text/],
      [['init', '--state', join(work, 's'), '--local', join(work, 'l')], /--remote/],
      [['init', '--state', join(work, 's'), '--remote', apache.url, '--local', join(work, 'l'), '--password-env', 'NOPE_UNSET'], /NOPE_UNSET is not set/],
      [['frobnicate'], /unknown command/],
      [['init', '--state', join(work, 's'), '--remote', apache.url, '--local', join(work, 'l'), '--bogus'], /unknown option/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv, {});
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
    }
  });
});

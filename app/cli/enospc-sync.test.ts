// F15, sync-folder half: the sync folder on a REAL small filesystem (tmpfs, 8 MiB, mounted by
// this test; CI runs as root). A download that does not fit fails cleanly: the existing local
// file is untouched, no partial file is left under any name, the journal still holds the old
// version, and the item is retried later; below 1 % free, downloads pause.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { cli } from './testing.js';

let apache: ApacheServer;
let work: string;
let mnt: string;

beforeAll(async () => {
  apache = await startApache();
  work = await mkdtemp(join(tmpdir(), 'netfs-f15-'));
  mnt = join(work, 'small');
  await mkdir(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`F15 needs a real small filesystem: 'mount -t tmpfs -o size=8m' failed (run the tests as root): ${(e as Error).message}`);
  }
});
afterAll(async () => {
  try {
    execFileSync('umount', [mnt], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  }
  await apache.stop();
  await rm(work, { recursive: true, force: true });
});

describe('F15: the sync folder runs out of space', () => {
  it('a download that does not fit fails cleanly, the existing file untouched; it is retried later and succeeds once there is room', async () => {
    await apache.mkdir('f');
    await apache.writeFile('f/doc.txt', 'version one');
    const state = join(work, 'state');
    const local = join(mnt, 'sync');
    expect((await cli(['init', '--state', state, '--remote', `${apache.url}f/`, '--local', local, '--user', apache.user, '--password-env', 'PW'], { PW: apache.password })).code).toBe(0);
    expect((await cli(['config', 'set', '--state', state, 'backoffBaseMs', '100'])).code).toBe(0);
    expect((await cli(['sync', '--once', '--state', state])).code).toBe(0);
    // Fill the small filesystem, then make the server's file bigger than what is left.
    await writeFile(join(mnt, 'filler.bin'), Buffer.alloc(5 * 1024 * 1024, 1));
    await new Promise((r) => setTimeout(r, 1100));
    await apache.writeFile('f/doc.txt', Buffer.alloc(4 * 1024 * 1024, 2));
    const r = await cli(['sync', '--once', '--state', state]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/\/doc\.txt: INSUFFICIENT_STORAGE/);
    expect(await readFile(join(local, 'doc.txt'), 'utf8')).toBe('version one');
    expect((await readdir(local)).sort()).toEqual(['.netfs-root', 'doc.txt']);
    const ls = JSON.parse((await cli(['ls', '--state', state, '--json'])).stdout) as { path: string; state: string; lastError: { code: string } | null }[];
    expect(ls.find((e) => e.path === '/doc.txt')).toMatchObject({ state: 'error', lastError: { code: 'INSUFFICIENT_STORAGE' } });
    // Room again: the retry (backoff set short) brings the new version.
    await rm(join(mnt, 'filler.bin'));
    await new Promise((r) => setTimeout(r, 200));
    const again = await cli(['sync', '--once', '--state', state]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect((await readFile(join(local, 'doc.txt'))).length).toBe(4 * 1024 * 1024);
  });

  it('below 1 % free, downloads pause (INSUFFICIENT_STORAGE before any byte is fetched)', async () => {
    await apache.mkdir('g');
    await apache.writeFile('g/new.txt', 'small');
    const state = join(work, 'state-g');
    const local = join(mnt, 'sync-g');
    expect((await cli(['init', '--state', state, '--remote', `${apache.url}g/`, '--local', local, '--user', apache.user, '--password-env', 'PW'], { PW: apache.password })).code).toBe(0);
    const fill = join(mnt, 'fill-all.bin');
    await writeFile(fill, Buffer.alloc(8 * 1024 * 1024 - 40 * 1024, 3)).catch(() => undefined);
    try {
      const before = apache.accessLog().length;
      const r = await cli(['sync', '--once', '--state', state]);
      expect(r.code).toBe(5);
      expect(r.stderr).toMatch(/download paused/);
      const log = (await apache.waitForAccessLog((e) => e.length > before)).slice(before);
      expect(log.filter((e) => e.method === 'GET' && e.target.endsWith('/new.txt'))).toEqual([]);
    } finally {
      await rm(fill, { force: true });
    }
  });
});

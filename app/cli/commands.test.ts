import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { entryInfoSchema, statusInfoSchema } from '../api/entries.js';
import { startApache, type ApacheServer } from '../testing/index.js';
import { cli, cliProcess } from './testing.js';

let apache: ApacheServer;
let work: string;
let n = 0;

beforeAll(async () => {
  apache = await startApache();
  work = await mkdtemp(join(tmpdir(), 'netfs-cli-cmd-'));
});
beforeEach(async () => {
  if (!apache.isRunning()) await apache.startServer();
});
afterAll(async () => {
  await apache.stop();
  await rm(work, { recursive: true, force: true });
});

async function account(files: Record<string, string>): Promise<{ state: string; local: string; remoteDir: string; id: string }> {
  const id = `c${++n}`;
  await apache.mkdir(id);
  for (const [p, text] of Object.entries(files)) await apache.writeFile(`${id}/${p}`, text);
  const state = join(work, `${id}-state`);
  const local = join(work, `${id}-local`);
  const r = await cli(['init', '--state', state, '--remote', `${apache.url}${id}/`, '--local', local, '--user', apache.user, '--password-env', 'PW'], { PW: apache.password });
  expect(r.code).toBe(0);
  expect((await cli(['sync', '--once', '--state', state])).code).toBe(0);
  return { state, local, remoteDir: apache.pathOf(id), id };
}

describe('netfs-sync commands beside the journal', () => {
  it('ls and status: states, sizes, paths; --json follows the app/api schemas', async () => {
    const a = await account({ 'x.txt': 'xx', 'd/y.txt': 'yyy' });
    await writeFile(join(a.local, 'local-only.txt'), 'new');
    const ls = await cli(['ls', '--state', a.state, '-R']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^synced\s+folder\s+\S+ \S+\s+\/d\/$/m);
    expect(ls.stdout).toMatch(/^synced\s+3 B\s+.*\/d\/y\.txt$/m);
    expect(ls.stdout).toMatch(/^pending\s+3 B\s+.*\/local-only\.txt$/m);
    const json = await cli(['ls', '--state', a.state, '/d', '--json']);
    const entries = entryInfoSchema.array().parse(JSON.parse(json.stdout));
    expect(entries.map((e) => [e.path, e.state, e.size])).toEqual([['/d/y.txt', 'synced', 3]]);
    const status = statusInfoSchema.parse(JSON.parse((await cli(['status', '--state', a.state, '--json'])).stdout));
    expect(status.files).toBe(3);
    expect(status.counts.synced).toBe(2);
    expect(status.counts.pending).toBe(1);
    expect(status.engine).toBeNull();
    expect(status.lastSyncMs).not.toBeNull();
    expect((await cli(['ls', '--state', a.state, '/nope'])).code).toBe(1);
  });

  it('read: the whole file and a range, byte-exact, from the synced copy or the server', async () => {
    const a = await account({ 'r.bin': 'abcdefghij' });
    expect((await cli(['read', '--state', a.state, '/r.bin'])).bytes.toString()).toBe('abcdefghij');
    expect((await cli(['read', '--state', a.state, '/r.bin', '--offset', '3', '--length', '4'])).bytes.toString()).toBe('defg');
    // Edited locally: read gives the server's version, not ours.
    await writeFile(join(a.local, 'r.bin'), 'LOCAL EDIT');
    expect((await cli(['read', '--state', a.state, '/r.bin'])).bytes.toString()).toBe('abcdefghij');
  });

  it('read while the server is down: a synced unchanged file still reads (exit 0); a file that needs the server writes nothing and exits 3', async () => {
    const a = await account({ 'kept.txt': 'kept bytes', 'other.txt': 'other' });
    await writeFile(join(a.local, 'other.txt'), 'changed here');
    await apache.stopServer();
    try {
      const ok = await cliProcess(['read', '--state', a.state, '/kept.txt']);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe('kept bytes');
      const down = await cliProcess(['read', '--state', a.state, '/other.txt']);
      expect(down.code).toBe(3);
      expect(down.bytes.length).toBe(0);
      expect(down.stderr).toMatch(/unreachable/i);
    } finally {
      await apache.startServer();
    }
  });

  it('conflicts and resolve --keep ours: ours takes the name back and the next sync uploads it and removes the copy', async () => {
    const a = await account({ 'c.txt': 'base' });
    await writeFile(join(a.local, 'c.txt'), 'ours');
    await new Promise((r) => setTimeout(r, 1100));
    await apache.writeFile(`${a.id}/c.txt`, 'theirs');
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    const listed = JSON.parse((await cli(['conflicts', '--state', a.state, '--json'])).stdout) as { path: string; copyPath: string }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]?.path).toBe('/c.txt');
    const resolved = await cli(['resolve', '--state', a.state, '/c.txt', '--keep', 'ours']);
    expect(resolved.code).toBe(0);
    const after = await cli(['sync', '--once', '--state', a.state]);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(await readFile(join(a.remoteDir, 'c.txt'), 'utf8')).toBe('ours');
    expect((await readdir(a.remoteDir)).filter((f) => f.includes('conflicted copy'))).toEqual([]);
    expect(JSON.parse((await cli(['conflicts', '--state', a.state, '--json'])).stdout)).toEqual([]);
    expect((await cli(['resolve', '--state', a.state, '/c.txt', '--keep', 'mine'])).code).toBe(2);
  });

  it('resolve --keep theirs removes our copy on both sides (via the trash)', async () => {
    const a = await account({ 't.txt': 'base' });
    await writeFile(join(a.local, 't.txt'), 'ours');
    await new Promise((r) => setTimeout(r, 1100));
    await apache.writeFile(`${a.id}/t.txt`, 'theirs');
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect((await cli(['resolve', '--state', a.state, '/t.txt', '--keep', 'theirs'])).code).toBe(0);
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect((await readdir(a.remoteDir)).sort()).toEqual(['t.txt']);
    expect(await readFile(join(a.local, 't.txt'), 'utf8')).toBe('theirs');
  });

  it('trash ls and restore: a file the server deleted comes back (and is uploaded again by the next sync)', async () => {
    const a = await account({ 'del.txt': 'precious' });
    await unlink(join(a.remoteDir, 'del.txt'));
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    await expect(stat(join(a.local, 'del.txt'))).rejects.toThrow();
    const rows = JSON.parse((await cli(['trash', 'ls', '--state', a.state, '--json'])).stdout) as { originalPath: string }[];
    expect(rows.map((r) => r.originalPath)).toEqual(['/del.txt']);
    const restored = await cli(['trash', 'restore', '--state', a.state, '/del.txt']);
    expect(restored.code).toBe(0);
    expect(await readFile(join(a.local, 'del.txt'), 'utf8')).toBe('precious');
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect(await readFile(join(a.remoteDir, 'del.txt'), 'utf8')).toBe('precious');
    expect((await cli(['trash', 'frob', '--state', a.state])).code).toBe(2);
  });

  it('config get/set: values checked, unknown keys refused with exit 2', async () => {
    const a = await account({});
    expect((await cli(['config', 'set', '--state', a.state, 'transfers', '6'])).code).toBe(0);
    expect((await cli(['config', 'get', '--state', a.state, 'transfers'])).stdout.trim()).toBe('6');
    const bad = await cli(['config', 'set', '--state', a.state, 'transfers', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/transfers/);
    expect((await cli(['config', 'set', '--state', a.state, 'nope', '1'])).code).toBe(2);
  });

  it('a state folder that was never initialised: exit 1 naming it', async () => {
    const r = await cli(['status', '--state', join(work, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not an initialised state folder/);
  });
});

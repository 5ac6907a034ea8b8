import { mkdir, mkdtemp, readFile, readdir, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { cli } from './testing.js';

let apache: ApacheServer;
let work: string;
let n = 0;

beforeAll(async () => {
  apache = await startApache();
  work = await mkdtemp(join(tmpdir(), 'netfs-cli-sync-'));
});
afterAll(async () => {
  await apache.stop();
  await rm(work, { recursive: true, force: true });
});

/** A fresh remote folder and account; returns its paths. */
async function account(files: Record<string, string> = {}): Promise<{ state: string; local: string; remoteDir: string; run: (...args: string[]) => ReturnType<typeof cli> }> {
  const id = `acct${++n}`;
  await apache.mkdir(id);
  for (const [p, text] of Object.entries(files)) await apache.writeFile(`${id}/${p}`, text);
  const state = join(work, `${id}-state`);
  const local = join(work, `${id}-local`);
  const init = await cli(['init', '--state', state, '--remote', `${apache.url}${id}/`, '--local', local, '--user', apache.user, '--password-env', 'PW'], { PW: apache.password });
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
  return { state, local, remoteDir: apache.pathOf(id), run: (...args: string[]) => cli([...args, '--state', state]) };
}

const serverText = (remoteDir: string, p: string): Promise<string> => readFile(join(remoteDir, p), 'utf8');

describe('netfs-sync sync --once against Apache', () => {
  it('first sync down: files and folders arrive byte-exact with the server mtime; a no-op resync makes no GET and no PUT (L2)', async () => {
    const a = await account({ 'a.txt': 'alpha', 'docs/b c.txt': 'bravo charlie', 'docs/deep/d#1.txt': 'delta', 'empty/.keep': '' });
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readFile(join(a.local, 'a.txt'), 'utf8')).toBe('alpha');
    expect(await readFile(join(a.local, 'docs/b c.txt'), 'utf8')).toBe('bravo charlie');
    expect(await readFile(join(a.local, 'docs/deep/d#1.txt'), 'utf8')).toBe('delta');
    expect((await stat(join(a.local, 'empty'))).isDirectory()).toBe(true);
    const server = await stat(join(a.remoteDir, 'a.txt'));
    expect(Math.floor((await stat(join(a.local, 'a.txt'))).mtimeMs / 1000)).toBe(Math.floor(server.mtimeMs / 1000));
    const before = apache.accessLog().length;
    const again = await a.run('sync', '--once');
    expect(again.code).toBe(0);
    const log = (await apache.waitForAccessLog((e) => e.length > before)).slice(before);
    expect(log.filter((e) => e.method === 'GET' || e.method === 'PUT')).toEqual([]);
  });

  it('a local add and a local edit are uploaded; a remote edit is downloaded', async () => {
    const a = await account({ 'keep.txt': 'one', 'theirs.txt': 'server v1' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'new.txt'), 'made here');
    await writeFile(join(a.local, 'keep.txt'), 'one, edited here');
    await new Promise((r) => setTimeout(r, 1100));
    await apache.writeFile(`acct${n}/theirs.txt`, 'server v2, longer');
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await serverText(a.remoteDir, 'new.txt')).toBe('made here');
    expect(await serverText(a.remoteDir, 'keep.txt')).toBe('one, edited here');
    expect(await readFile(join(a.local, 'theirs.txt'), 'utf8')).toBe('server v2, longer');
  });

  it('both sides changed: the server version keeps the name, ours becomes a conflict copy, uploaded too', async () => {
    const a = await account({ 'both.txt': 'base' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'both.txt'), 'ours!');
    await new Promise((r) => setTimeout(r, 1100));
    await apache.writeFile(`acct${n}/both.txt`, 'theirs!!');
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/conflict: \/both.txt/);
    expect(await readFile(join(a.local, 'both.txt'), 'utf8')).toBe('theirs!!');
    const copies = (await readdir(a.local)).filter((f) => f.startsWith('both (conflicted copy '));
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^both \(conflicted copy \d{4}-\d{2}-\d{2} \d{6}\)\.txt$/);
    expect(await readFile(join(a.local, copies[0] ?? ''), 'utf8')).toBe('ours!');
    expect(await serverText(a.remoteDir, copies[0] ?? '')).toBe('ours!');
    expect(await serverText(a.remoteDir, 'both.txt')).toBe('theirs!!');
  });

  it('deletes: a server delete moves the local copy to the trash; a local delete is a DELETE on the server', async () => {
    const a = await account({ 'gone-there.txt': 'x', 'gone-here.txt': 'y', 'stay.txt': 'z' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await unlink(join(a.remoteDir, 'gone-there.txt'));
    await unlink(join(a.local, 'gone-here.txt'));
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expect(stat(join(a.local, 'gone-there.txt'))).rejects.toThrow();
    await expect(stat(join(a.remoteDir, 'gone-here.txt'))).rejects.toThrow();
    expect(await readFile(join(a.local, 'stay.txt'), 'utf8')).toBe('z');
    const trash = await readdir(join(a.state, 'trash'));
    expect(trash.some((f) => f.endsWith('gone-there.txt'))).toBe(true);
  });

  it('an edit beats a delete: local edit + server delete re-uploads; server edit + local delete re-downloads', async () => {
    const a = await account({ 'edit-here.txt': 'v1', 'edit-there.txt': 'v1' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'edit-here.txt'), 'v2 local');
    await unlink(join(a.remoteDir, 'edit-here.txt'));
    await unlink(join(a.local, 'edit-there.txt'));
    await new Promise((r) => setTimeout(r, 1100));
    await apache.writeFile(`acct${n}/edit-there.txt`, 'v2 server');
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(0);
    expect(await serverText(a.remoteDir, 'edit-here.txt')).toBe('v2 local');
    expect(await readFile(join(a.local, 'edit-there.txt'), 'utf8')).toBe('v2 server');
  });

  it('an edit that keeps the mtime but changes the size is still uploaded', async () => {
    const a = await account({ 'same-mtime.txt': 'short' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    const file = join(a.local, 'same-mtime.txt');
    const before = await stat(file);
    await writeFile(file, 'short and now longer');
    await utimes(file, before.atime, before.mtime);
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(await serverText(a.remoteDir, 'same-mtime.txt')).toBe('short and now longer');
  });

  it('first sync with files on both sides: identical ones are recorded without a transfer, different ones become conflicts', async () => {
    const id = `acct${n + 1}`;
    const local = join(work, `${id}-local`);
    await mkdir(join(local, 'sub'), { recursive: true });
    await writeFile(join(local, 'same.txt'), 'identical bytes');
    await writeFile(join(local, 'sub/differs.txt'), 'local version');
    const a = await account({ 'same.txt': 'identical bytes', 'sub/differs.txt': 'server version' });
    const before = apache.accessLog().length;
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(0);
    const log = (await apache.waitForAccessLog((e) => e.length > before)).slice(before);
    expect(log.filter((e) => e.method === 'PUT' && e.target.endsWith('same.txt'))).toEqual([]);
    expect(await readFile(join(local, 'sub/differs.txt'), 'utf8')).toBe('server version');
    const copies = (await readdir(join(local, 'sub'))).filter((f) => f.includes('conflicted copy'));
    expect(copies).toHaveLength(1);
    expect(await readFile(join(local, 'sub', copies[0] ?? ''), 'utf8')).toBe('local version');
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const a = await account({ 'planned.txt': 'p' });
    const r = await a.run('sync', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('download /planned.txt');
    await expect(stat(join(a.local, 'planned.txt'))).rejects.toThrow();
  });
});

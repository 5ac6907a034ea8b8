import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { entryInfoSchema } from '../api/entries.js';
import { startApache, type ApacheServer } from '../testing/index.js';
import { cli, cliProcess, spawnCli } from './testing.js';

let apache: ApacheServer;
let work: string;
let n = 0;

beforeAll(async () => {
  apache = await startApache();
  work = await mkdtemp(join(tmpdir(), 'netfs-offline-'));
});
// A test that stopped the server and then failed must not take the next ones down with it.
beforeEach(async () => {
  if (!apache.isRunning()) await apache.startServer();
});
afterAll(async () => {
  await apache.stop();
  await rm(work, { recursive: true, force: true });
});

const bytes = (size: number, seed: number): Buffer => {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
};
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function account(files: Record<string, Buffer | string>): Promise<{ state: string; local: string; remoteDir: string; id: string }> {
  const id = `o${++n}`;
  await apache.mkdir(id);
  for (const [p, data] of Object.entries(files)) await apache.writeFile(`${id}/${p}`, data);
  const state = join(work, `${id}-state`);
  const local = join(work, `${id}-local`);
  const r = await cli(['init', '--state', state, '--remote', `${apache.url}${id}/`, '--local', local, '--user', apache.user, '--password-env', 'PW'], { PW: apache.password });
  expect(r.code).toBe(0);
  return { state, local, remoteDir: apache.pathOf(id), id };
}

async function ls(state: string, path = '/'): Promise<Map<string, { state: string; cachedBytes: number; cachedRanges: [number, number][] }>> {
  const r = await cli(['ls', '--state', state, path, '-R', '--json']);
  expect(r.code).toBe(0);
  return new Map(entryInfoSchema.array().parse(JSON.parse(r.stdout)).map((e) => [e.path, e]));
}

describe('files on demand and offline (issue 6) against Apache really stopped and started', () => {
  it('unpin frees up space only after checking the server, never deletes there; the bytes stay in the cache and read offline; pin hydrates offline from the cache', async () => {
    const big = bytes(700_000, 1);
    const a = await account({ 'docs/big.bin': big, 'docs/note.txt': 'a note', 'keep.txt': 'stays' });
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect((await cli(['unpin', '--state', a.state, '/docs'])).code).toBe(0);
    const freed = await cli(['sync', '--once', '--state', a.state]);
    expect(freed.stderr).toBe('');
    expect(freed.code).toBe(0);
    await expect(stat(join(a.local, 'docs/big.bin'))).rejects.toThrow();
    expect(sha(await readFile(join(a.remoteDir, 'docs/big.bin')))).toBe(sha(big));
    const entries = await ls(a.state);
    expect(entries.get('/docs/big.bin')?.state).toBe('cached');
    expect(entries.get('/docs/note.txt')?.state).toBe('cached');
    expect(entries.get('/keep.txt')?.state).toBe('synced');

    await apache.stopServer();
    try {
      const offlineRead = await cliProcess(['read', '--state', a.state, '/docs/big.bin']);
      expect([offlineRead.code, offlineRead.stderr, offlineRead.bytes.length]).toEqual([0, "", 700_000]);
      expect(offlineRead.code).toBe(0);
      expect(sha(offlineRead.bytes)).toBe(sha(big));
      const range = await cliProcess(['read', '--state', a.state, '/docs/big.bin', '--offset', '123457', '--length', '5000']);
      expect([range.code, range.stderr]).toEqual([0, ""]);
      expect(Buffer.compare(range.bytes, big.subarray(123457, 128457))).toBe(0);
      const offlineSync = await cliProcess(['sync', '--once', '--state', a.state]);
      expect(offlineSync.code).toBe(3);
      const pin = await cliProcess(['pin', '--state', a.state, '/docs/note.txt']);
      expect(pin.stderr).toBe('');
      expect(pin.code).toBe(0);
      expect(pin.stdout).toMatch(/from the cache/);
      expect(await readFile(join(a.local, 'docs/note.txt'), 'utf8')).toBe('a note');
      expect((await ls(a.state)).get('/docs/note.txt')?.state).toBe('synced');
    } finally {
      await apache.startServer();
    }
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect((await readdir(join(a.remoteDir, 'docs'))).sort()).toEqual(['big.bin', 'note.txt']);
  }, 180_000);

  it('unpin of a file edited locally uploads the edit first, then frees it', async () => {
    const a = await account({ 'e.txt': 'v1' });
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    await writeFile(join(a.local, 'e.txt'), 'v2 made here');
    expect((await cli(['unpin', '--state', a.state, '/e.txt'])).code).toBe(0);
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect(await readFile(join(a.remoteDir, 'e.txt'), 'utf8')).toBe('v2 made here');
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    await expect(stat(join(a.local, 'e.txt'))).rejects.toThrow();
    expect(await readFile(join(a.remoteDir, 'e.txt'), 'utf8')).toBe('v2 made here');
  });

  it('a range read of an online-only file caches only that range (widened to granules): partial, then more', async () => {
    const big = bytes(1_000_000, 2);
    const a = await account({ 'r/big.bin': big });
    expect((await cli(['unpin', '--state', a.state, '/r'])).code).toBe(0);
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    await expect(stat(join(a.local, 'r/big.bin'))).rejects.toThrow();
    expect((await ls(a.state)).get('/r/big.bin')?.state).toBe('online-only');
    const r = await cli(['read', '--state', a.state, '/r/big.bin', '--offset', '200000', '--length', '1000']);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.bytes, big.subarray(200000, 201000))).toBe(0);
    const e = (await ls(a.state)).get('/r/big.bin');
    expect(e?.state).toBe('partial');
    expect(e?.cachedRanges).toEqual([[196608, 262144]]);
    const whole = await cli(['read', '--state', a.state, '/r/big.bin']);
    expect(sha(whole.bytes)).toBe(sha(big));
    expect((await ls(a.state)).get('/r/big.bin')?.state).toBe('cached');
  });

  it('offline: local edits are recorded as pending (exit 3), uploaded with preconditions when the server is back; a server edit meanwhile gives a conflict copy', async () => {
    const a = await account({ 'p.txt': 'base', 'q.txt': 'base q' });
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    await apache.stopServer();
    try {
      await writeFile(join(a.local, 'p.txt'), 'edited offline');
      await writeFile(join(a.local, 'q.txt'), 'q edited offline');
      await writeFile(join(a.local, 'new.txt'), 'made offline');
      const r = await cliProcess(['sync', '--once', '--state', a.state]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/3 local change\(s\) pending/);
      const entries = await ls(a.state);
      expect(entries.get('/p.txt')?.state).toBe('pending');
      expect(entries.get('/new.txt')?.state).toBe('pending');
      // The server changes q.txt while we are cut off from it.
      await new Promise((res) => setTimeout(res, 1100));
      await apache.writeFile(`${a.id}/q.txt`, 'q edited on the server');
    } finally {
      await apache.startServer();
    }
    const back = await cli(['sync', '--once', '--state', a.state]);
    expect(back.code).toBe(0);
    expect(await readFile(join(a.remoteDir, 'p.txt'), 'utf8')).toBe('edited offline');
    expect(await readFile(join(a.remoteDir, 'new.txt'), 'utf8')).toBe('made offline');
    expect(await readFile(join(a.local, 'q.txt'), 'utf8')).toBe('q edited on the server');
    const copies = (await readdir(a.remoteDir)).filter((f) => f.startsWith('q (conflicted copy'));
    expect(copies).toHaveLength(1);
    expect(await readFile(join(a.remoteDir, copies[0] ?? ''), 'utf8')).toBe('q edited offline');
    const after = await ls(a.state);
    expect(after.get('/p.txt')?.state).toBe('synced');
  }, 120_000);
  it('a folder unpinned and pinned again loses nothing on either side (hash manifests before and after)', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 6; i++) files[`f/sub${i % 2}/file${i}.bin`] = bytes(50_000 + i * 1000, i);
    const a = await account(files);
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    const manifest = async (root: string): Promise<string[]> => {
      const out: string[] = [];
      for (const p of Object.keys(files)) out.push(`${p} ${sha(await readFile(join(root, p)))}`);
      return out.sort();
    };
    const before = await manifest(a.remoteDir);
    expect(await manifest(a.local)).toEqual(before);
    expect((await cli(['unpin', '--state', a.state, '/f'])).code).toBe(0);
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    await expect(stat(join(a.local, 'f/sub0/file0.bin'))).rejects.toThrow();
    expect(await manifest(a.remoteDir)).toEqual(before);
    expect((await cli(['pin', '--state', a.state, '/f'])).code).toBe(0);
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect(await manifest(a.local)).toEqual(before);
    expect(await manifest(a.remoteDir)).toEqual(before);
  });

  it('culling under a small cache limit removes the least recently used online-only content, never a local file or a pending edit', async () => {
    const a = await account({ 'c/one.bin': bytes(300_000, 1), 'c/two.bin': bytes(300_000, 2), 'c/three.bin': bytes(300_000, 3), 'mine.txt': 'synced' });
    expect((await cli(['config', 'set', '--state', a.state, 'cacheLimitBytes', '700000'])).code).toBe(0);
    expect((await cli(['unpin', '--state', a.state, '/c'])).code).toBe(0);
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    await writeFile(join(a.local, 'mine.txt'), 'a pending edit');
    for (const name of ['one', 'two', 'three']) {
      const r = await cli(['read', '--state', a.state, `/c/${name}.bin`]);
      expect(r.code).toBe(0);
      await new Promise((res) => setTimeout(res, 20));
    }
    const entries = await ls(a.state);
    expect(entries.get('/c/one.bin')?.state).toBe('online-only');
    expect(entries.get('/c/two.bin')?.state).toBe('cached');
    expect(entries.get('/c/three.bin')?.state).toBe('cached');
    expect(entries.get('/mine.txt')?.state).toBe('pending');
    expect(await readFile(join(a.local, 'mine.txt'), 'utf8')).toBe('a pending edit');
    const objects = JSON.parse((await cli(['cache', 'ls', '--state', a.state, '--json'])).stdout) as { objects: { allocatedBytes: number }[] };
    expect(objects.objects.reduce((n, o) => n + o.allocatedBytes, 0)).toBeLessThanOrEqual(700_000);
  });

  it('the watching sync notices the server is back by itself (backoff), and a pass uploads the edit made while it was down', async () => {
    const a = await account({ 'w.txt': 'before' });
    expect((await cli(['sync', '--once', '--state', a.state])).code).toBe(0);
    expect((await cli(['config', 'set', '--state', a.state, 'debounceMs', '200'])).code).toBe(0);
    expect((await cli(['config', 'set', '--state', a.state, 'remotePollMs', '60000'])).code).toBe(0);
    await apache.stopServer();
    const child = spawnCli(['sync', '--state', a.state]);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      const deadline = Date.now() + 60_000;
      while (!/offline since/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stderr).toMatch(/offline since/);
      await writeFile(join(a.local, 'w.txt'), 'edited while the server was down');
      await new Promise((r) => setTimeout(r, 1000));
      await apache.startServer();
      const until = Date.now() + 60_000;
      let server = '';
      while (Date.now() < until) {
        server = await readFile(join(a.remoteDir, 'w.txt'), 'utf8').catch(() => '');
        if (server === 'edited while the server was down') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(server).toBe('edited while the server was down');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 150_000);
});

/**
 * L4, watcher storm, end to end against a real Apache with `netfs-sync sync` (watching) as a
 * child process:
 *
 *   sync (watching) ──┐
 *   10,000 files written into storm/ in < 2 s ──> all on the server, each PUT once (access log)
 *   mv storm storm-renamed ──> one MOVE of the collection, no PUT, no DELETE (access log)
 *   SIGTERM: exits 0 (no watcher crash) ──> the common oracle (scenario-oracle.ts)
 *
 * Clocks are settings (debounceMs 300, remotePollMs 60 s so the poll does not interleave). The
 * sync folder is on its own tmpfs, so the storm's speed does not hang on the disk's journal.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, sleep } from './scenario-kit.js';
import { expectConverged, journalView } from './scenario-oracle.js';
import { spawnCli } from './testing.js';

const FILES = 10_000;

let apache: ApacheServer;
let temp: TempDir;

/** The sync folder's own tmpfs: 10,000 creations in < 2 s must not wait on a disk journal other suites keep busy. */
let mnt: string;

beforeAll(async () => {
  apache = await startApache();
  temp = await makeTempDir('netfs-scen-storm-');
  mnt = join(temp.path, 'tmpfs');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`L4 mounts a tmpfs for the sync folder (run the tests as root): ${(e as Error).message}`);
  }
});
afterAll(async () => {
  try {
    execFileSync('umount', [mnt], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  }
  await apache.stop();
  await temp.remove();
});

async function until(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await check()) return Date.now() - t0;
    await sleep(200);
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

const count = (dir: string): Promise<number> => readdir(dir).then((n) => n.length, () => -1);
const body = (i: number): string => `storm file ${i}\n`;

describe('L4: watcher storm', () => {
  it(`L4: ${FILES} files created in < 2 s while watching: all uploaded, each PUT once; the folder renamed -> one MOVE, not ${FILES} DELETE + PUT; no watcher crash; common oracle`, { timeout: 600_000 }, async () => {
    const a = await account({ server: apache, work: temp.path, local: join(mnt, 'sync'), files: { 'ready.txt': 'there at start' } });
    for (const [k, v] of [['debounceMs', '300'], ['remotePollMs', '60000'], ['transfers', '8']] as const) expect((await a.run('config', 'set', k, v)).code).toBe(0);
    const child = spawnCli(['sync', '--state', a.state]);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let alive = true;
    void exited.then(() => (alive = false));
    const timings: string[] = [];
    try {
      await until('the first pass', () => existsSync(join(a.local, 'ready.txt')), 30_000);
      const logStart = apache.accessLog().length;

      // The storm: 10,000 small files, written synchronously (the thread pool's async writes take
      // 2 s and more while other suites load the machine).
      const t0 = Date.now();
      mkdirSync(join(a.local, 'storm'));
      for (let i = 0; i < FILES; i++) writeFileSync(join(a.local, 'storm', `f${i}.txt`), body(i));
      const written = Date.now() - t0;
      timings.push(`written ${written} ms`);
      expect(written, 'the storm takes under 2 s').toBeLessThan(2_000);

      const up = await until('all files on the server', async () => (await count(join(a.remoteDir, 'storm'))) === FILES, 300_000);
      timings.push(`on the server ${up} ms later`);
      // The pass records as it goes: wait for the journal to hold every row before renaming.
      const recorded = await until('all rows in the journal', () => journalView(a.state).files.filter((f) => f.startsWith('storm/')).length === FILES, 60_000);
      timings.push(`recorded ${recorded} ms later`);
      expect(alive, `the watching sync is running: ${stderr}`).toBe(true);

      const puts = new Map<string, number>();
      for (const e of apache.accessLog().slice(logStart)) {
        if (e.method !== 'PUT' || !e.target.includes(`/${a.id}/storm/`)) continue;
        const name = decodeURIComponent(e.target.slice(e.target.lastIndexOf('/') + 1));
        puts.set(name, (puts.get(name) ?? 0) + 1);
      }
      expect(puts.size, 'a PUT for every file').toBe(FILES);
      expect([...puts].filter(([, n]) => n !== 1), 'each file uploaded once').toEqual([]);

      // The rename: one MOVE of the collection.
      const logRename = apache.accessLog().length;
      const t1 = Date.now();
      await rename(join(a.local, 'storm'), join(a.local, 'storm-renamed'));
      await until('the rename on the server', async () => (await count(join(a.remoteDir, 'storm-renamed'))) === FILES && !existsSync(join(a.remoteDir, 'storm')), 120_000);
      timings.push(`renamed on the server in ${Date.now() - t1} ms`);
      await until('the journal follows the rename', () => journalView(a.state).files.filter((f) => f.startsWith('storm-renamed/')).length === FILES, 30_000);
      const after = apache
        .accessLog()
        .slice(logRename)
        .filter((e) => e.target.includes(`/${a.id}/`) && e.method !== 'PROPFIND');
      const moves = after.filter((e) => e.method === 'MOVE');
      expect(
        moves.map((e) => `${e.status} ${e.target.replace(/\/$/, '')}`),
        'one MOVE, of the folder',
      ).toEqual([`201 /dav/${a.id}/storm`]);
      expect(after.filter((e) => e.method === 'PUT' || e.method === 'DELETE' || e.method === 'MKCOL').map((e) => `${e.method} ${e.target}`)).toEqual([]);
      expect(alive, `no watcher crash: ${stderr}`).toBe(true);
    } finally {
      const t2 = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      console.log(`L4 timings: ${timings.join(', ')}; stopped in ${Date.now() - t2} ms`);
      expect(Date.now() - t2).toBeLessThan(30_000);
      expect(code, stderr).toBe(0);
    }
    const local = await expectConverged(a, apache, 'L4 after the rename');
    expect([...local.keys()].filter((p) => p.startsWith('storm-renamed/'))).toHaveLength(FILES);
  });
});

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { cli, spawnCli } from './testing.js';

let apache: ApacheServer;
let work: string;

beforeAll(async () => {
  apache = await startApache();
  work = await mkdtemp(join(tmpdir(), 'netfs-watch-'));
});
afterAll(async () => {
  await apache.stop();
  await rm(work, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

const read = (p: string): Promise<string | null> => readFile(p, 'utf8').catch(() => null);

describe('netfs-sync sync (watching)', () => {
  it('a local change is uploaded after the debounce, a server change arrives with the poll, SIGTERM stops it cleanly with the lock released', async () => {
    await apache.mkdir('w');
    await apache.writeFile('w/start.txt', 'there at start');
    const state = join(work, 'state');
    const local = join(work, 'local');
    expect((await cli(['init', '--state', state, '--remote', `${apache.url}w/`, '--local', local, '--user', apache.user, '--password-env', 'PW'], { PW: apache.password })).code).toBe(0);
    for (const [k, v] of [['debounceMs', '200'], ['remotePollMs', '1000']] as const) expect((await cli(['config', 'set', '--state', state, k, v])).code).toBe(0);
    const child = spawnCli(['sync', '--state', state]);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until('the first pass', async () => (await read(join(local, 'start.txt'))) === 'there at start');
      const second = await cli(['sync', '--once', '--state', state]);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/already running \(pid \d+\)/);
      await writeFile(join(local, 'made-here.txt'), 'local change');
      await until('the upload', async () => (await read(apache.pathOf('w/made-here.txt'))) === 'local change');
      await apache.writeFile('w/made-there.txt', 'server change');
      await until('the download', async () => (await read(join(local, 'made-there.txt'))) === 'server change');
    } finally {
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(code, stderr).toBe(0);
    }
    expect(existsSync(join(state, 'engine.lock'))).toBe(false);
  });
});

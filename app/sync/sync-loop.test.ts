// SyncLoop pause and resume (issue 5 item 8) against a real Apache: while paused no pass runs
// and nothing moves; pausing in the middle of a pass cancels it without placing anything half
// done; resume picks everything up.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, exists, leftovers, sleep, stagingLeftovers } from '../cli/scenario-kit.js';
import { startApache, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { SyncLoop, type LoopStatus } from './sync-loop.js';
import { SyncSession } from './session.js';

let apache: ApacheServer;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  temp = await makeTempDir('netfs-loop-');
});
afterAll(async () => {
  await apache.stop();
  await temp.remove();
});

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('SyncLoop pause and resume', () => {
  it('paused: a local change is neither uploaded nor any request sent; resume uploads it', async () => {
    const a = await account({ server: apache, work: temp.path, files: { 'there.txt': 'from the server' } });
    expect((await a.run('config', 'set', 'debounceMs', '50')).code).toBe(0);
    const session = await SyncSession.open(a.state, { engine: true });
    const loop = new SyncLoop(session, { pollMs: 300 });
    const statuses: LoopStatus['state'][] = [];
    loop.on('status', (s) => statuses.push(s.state));
    let passes = 0;
    loop.on('pass', () => passes++);
    try {
      await loop.start();
      await until('the first pass', () => passes >= 1);
      await loop.idle();
      expect(await readFile(join(a.local, 'there.txt'), 'utf8')).toBe('from the server');
      loop.pause();
      expect(loop.status.state).toBe('paused');
      const logStart = apache.accessLog().length;
      const passesAtPause = passes;
      await writeFile(join(a.local, 'made-while-paused.txt'), 'waits for resume');
      await sleep(1_500); // several poll periods and debounces
      expect(passes).toBe(passesAtPause);
      expect(apache.accessLog().slice(logStart).filter((e) => e.target.includes(`/${a.id}/`))).toEqual([]);
      expect(await exists(join(a.remoteDir, 'made-while-paused.txt'))).toBe(false);
      loop.resume();
      await until('the upload after resume', () => exists(join(a.remoteDir, 'made-while-paused.txt')));
      expect((await a.serverRead('made-while-paused.txt')).toString()).toBe('waits for resume');
      expect(statuses).toContain('paused');
      expect(statuses.indexOf('syncing', statuses.indexOf('paused'))).toBeGreaterThan(-1);
    } finally {
      await loop.stop(30_000);
      await session.close();
    }
  });

  it('pause during a pass cancels it promptly: nothing half-downloaded is placed; resume finishes the file whole', async () => {
    const big = randomBytes(3 << 20);
    const a = await account({ server: apache, work: temp.path, files: { 'big.bin': big } });
    expect((await a.run('config', 'set', 'bandwidthDownBytesPerSec', '1048576')).code).toBe(0);
    const session = await SyncSession.open(a.state, { engine: true });
    const loop = new SyncLoop(session, { pollMs: 60_000 });
    try {
      await loop.start();
      await until('the download to start', () => apache.accessLog().some((e) => e.method === 'GET' && e.target.endsWith(`/${a.id}/big.bin`)));
      const t0 = Date.now();
      loop.pause();
      await loop.idle();
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(loop.status.state).toBe('paused');
      expect(await exists(join(a.local, 'big.bin'))).toBe(false);
      expect(await leftovers(a.local)).toEqual([]);
      loop.resume();
      await until('the download after resume', async () => (await exists(join(a.local, 'big.bin'))) && loop.status.state === 'idle', 30_000);
      expect((await readFile(join(a.local, 'big.bin'))).equals(big)).toBe(true);
    } finally {
      await loop.stop(30_000);
      await session.close();
    }
    expect(await stagingLeftovers(a.state)).toEqual([]);
  });
});

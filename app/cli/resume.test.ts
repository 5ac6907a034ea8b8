// L6 (resume across restarts) and issue 4 item 7: a synced file's download killed half way
// (SIGKILL of the real process) resumes from the cache's occupancy: the next run fetches only
// the missing ranges.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { cli, spawnCli } from './testing.js';

let apache: ApacheServer;
let work: string;

beforeAll(async () => {
  apache = await startApache();
  work = await mkdtemp(join(tmpdir(), 'netfs-resume-'));
});
afterAll(async () => {
  await apache.stop();
  await rm(work, { recursive: true, force: true });
});

describe('L6: a download killed half way resumes', () => {
  it('after SIGKILL the next sync fetches only what the cache lacks, and the file is byte-exact', async () => {
    const size = 8 * 1024 * 1024;
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    await apache.mkdir('r');
    await apache.writeFile('r/big.bin', data);
    const state = join(work, 'state');
    const local = join(work, 'local');
    expect((await cli(['init', '--state', state, '--remote', `${apache.url}r/`, '--local', local, '--user', apache.user, '--password-env', 'PW'], { PW: apache.password })).code).toBe(0);
    // 2 MiB/s: the 8 MiB download takes about 4 s, so a kill after ~2 s lands half way.
    expect((await cli(['config', 'set', '--state', state, 'bandwidthDownBytesPerSec', String(2 * 1024 * 1024)])).code).toBe(0);
    const before = apache.accessLog().length;
    const child = spawnCli(['sync', '--once', '--state', state]);
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await apache.waitForAccessLog((e) => e.slice(before).filter((x) => x.method === 'GET' && x.status === 206).length >= 9, 60_000);
    child.kill('SIGKILL');
    await exited;
    const firstRun = apache.accessLog().slice(before).filter((e) => e.method === 'GET');
    const firstBytes = firstRun.reduce((n, e) => n + e.bytesSent, 0);
    expect(firstBytes).toBeGreaterThan(0);
    expect(firstBytes).toBeLessThan(size);
    expect((await readdir(local)).filter((n) => n !== '.netfs-root')).toEqual([]);

    const cacheAfterKill = (await cli(['cache', 'ls', '--state', state, '--json'])).stdout;
    expect((await cli(['config', 'set', '--state', state, 'bandwidthDownBytesPerSec', '0'])).code).toBe(0);
    const mid = apache.accessLog().length;
    const r = await cli(['sync', '--once', '--state', state]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = await readFile(join(local, 'big.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    const second = (await apache.waitForAccessLog((e) => e.length > mid)).slice(mid).filter((e) => e.method === 'GET');
    const secondBytes = second.reduce((n, e) => n + e.bytesSent, 0);
    // Only the missing part again (headers make each answer a little bigger than its range);
    // at most one subrequest in flight per kill is fetched twice.
    expect(second.every((e) => e.range !== null && !e.range.startsWith('bytes=0-')), JSON.stringify({ cacheAfterKill, first: firstRun.map((e) => [e.range, e.status, e.bytesSent]), second: second.map((e) => [e.range, e.status, e.bytesSent]) })).toBe(true);
    expect(firstBytes + secondBytes).toBeLessThan(size + 4 * 1024 * 1024);
    expect(secondBytes).toBeLessThan(size - 512 * 1024);
  });
});

/**
 * F18: a server that sends the wrong bytes for a download, end to end through `sync --once`
 * with the fault proxy's `resize-body` in front of a real Apache:
 *
 *   PROPFIND says 10,000 bytes ──> GET answers (well-formed) 1,000 bytes / 20,000 bytes
 *   PROPFIND says 3 MiB (staged download, ranged GETs) ──> each GET's body ends at 100,000 bytes
 *     -> the file is not committed (a new one not created, a synced one left as it was)
 *     -> the item fails with a reason naming the size, attempt 1, a next retry time
 *     -> no retry storm: a handful of GETs in the attempt, none while it waits in backoff
 *     -> the fault gone and the retry due: it downloads and converges
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApache, startFaultProxy, type ApacheServer, type FaultProxy } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf, exists, leftovers, manifest, sleep, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';

let apache: ApacheServer;
let proxy: FaultProxy;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  temp = await makeTempDir('netfs-scen-f18-');
});
afterEach(() => proxy.clearRules());
afterAll(async () => {
  await proxy.close();
  await apache.stop();
  await temp.remove();
});

interface Failure {
  path: string;
  code: string;
  message: string;
  attempts: number;
  nextRetryMs: number;
}
async function failures(a: ScenarioAccount): Promise<Failure[]> {
  return (JSON.parse((await a.run('status', '--json')).stdout) as { failures: Failure[] }).failures;
}

const content = (tag: string, size: number): Buffer => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (tag.charCodeAt(i % tag.length) + i) % 256;
  return b;
};

describe('F18: the server sends the wrong bytes for a download', () => {
  it.each([
    ['shorter than the listing (1,000 of 10,000 bytes)', 10_000, 1_000],
    ['longer than the listing (20,000 for 10,000 bytes)', 10_000, 20_000],
    ['of a 3 MiB file (staged in the cache, ranged GETs) shorter than the listing', 3 << 20, 100_000],
  ])('F18: body %s: not committed, item error with a reason, backoff holds (GETs counted), converges once the server is right', async (_label, size, bytes) => {
    const a = await account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url), files: { 'ok.txt': 'fine', 'synced.bin': content('v1', size) } });
    expect((await a.run('config', 'set', 'backoffBaseMs', '3000')).code).toBe(0);
    expect((await a.run('sync', '--once')).code).toBe(0);
    // A new file and a new version of a synced one, both answered with the wrong size.
    await a.serverWrite('new.bin', content('new', size));
    await a.serverWrite('synced.bin', content('v2', size));
    const target = (name: string): string => `/dav/${a.id}/${name}`;
    proxy.addRule({ match: { method: 'GET', path: { prefix: target('') }, when: (r) => !r.path.endsWith('/ok.txt') }, action: { kind: 'resize-body', bytes } });
    const gets = (name: string): number => proxy.requests.filter((q) => q.method === 'GET' && q.path === target(name)).length;

    const first = await a.run('sync', '--once');
    expect(first.code, first.stderr).toBe(5);
    expect(first.stderr).toMatch(/\/new\.bin: .*\(attempt 1, next try/);
    // Not committed: no new file, the synced one still the old version, nothing half-made.
    expect(await exists(join(a.local, 'new.bin'))).toBe(false);
    expect((await readFile(join(a.local, 'synced.bin'))).equals(content('v1', size))).toBe(true);
    expect(await leftovers(a.local)).toEqual([]);
    const fs1 = await failures(a);
    expect(fs1.map((f) => [f.path, f.attempts]).sort()).toEqual([
      ['/new.bin', 1],
      ['/synced.bin', 1],
    ]);
    for (const f of fs1) expect(f.message, 'the reason names the size').toMatch(/size|bytes|length|more data|short/i);
    const getsNew = gets('new.bin');
    const getsSynced = gets('synced.bin');
    // No storm within the attempt: the engine's own retries at most.
    expect(getsNew).toBeGreaterThanOrEqual(1);
    expect(getsNew).toBeLessThanOrEqual(5);
    expect(getsSynced).toBeLessThanOrEqual(5);

    // While it waits in backoff: passes make no GET of it, and the attempt count stays.
    for (let i = 0; i < 3; i++) expect((await a.run('sync', '--once')).code).toBe(5);
    expect([gets('new.bin'), gets('synced.bin')]).toEqual([getsNew, getsSynced]);
    expect((await failures(a)).map((f) => f.attempts)).toEqual([1, 1]);

    // The server sends the right bytes again; once due, the retry downloads them.
    proxy.clearRules();
    const due = Math.max(...fs1.map((f) => f.nextRetryMs));
    await sleep(Math.max(0, due - Date.now()) + 100);
    const ok = await a.run('sync', '--once');
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readFile(join(a.local, 'new.bin'))).equals(content('new', size))).toBe(true);
    expect((await readFile(join(a.local, 'synced.bin'))).equals(content('v2', size))).toBe(true);
    expect(await failures(a)).toEqual([]);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
    expect(await stagingLeftovers(a.state)).toEqual([]);
  });
});

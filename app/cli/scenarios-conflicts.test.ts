// Concurrent edits end to end through `netfs-sync sync --once` against a real Apache, with the
// fault proxy holding a request open while the other side changes (test-scenarios.md §6.2):
// F11 (the server's copy changes during our upload), F12 (the local file changes during its
// upload; new files appear during a sync), F13 (a proxy that makes every ETag weak).
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApache, startFaultProxy, type ApacheServer, type FaultProxy } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf, manifest, sleep, type ScenarioAccount } from './scenario-kit.js';

let apache: ApacheServer;
let proxy: FaultProxy;
/** A second proxy that turns every ETag weak (F13); its accounts are probed through it. */
let weak: FaultProxy;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  weak = await startFaultProxy({ target: apache.origin });
  weak.addRule({ name: 'weak', action: { kind: 'weak-etags' } });
  temp = await makeTempDir('netfs-scen-conflicts-');
});
afterEach(() => proxy.clearRules());
afterAll(async () => {
  await proxy.close();
  await weak.close();
  await apache.stop();
  await temp.remove();
});

const viaProxy = (files: Record<string, string> = {}): Promise<ScenarioAccount> => account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url), files });

async function conflictCopies(dir: string, stem: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(`${stem} (conflicted copy `));
}

describe('F11: the server copy changes while our upload is in progress', () => {
  it('F11: the PUT fails its If-Match (412); theirs keeps the name, ours becomes a conflict copy with our bytes, on both sides', async () => {
    const a = await viaProxy({ 'doc.txt': 'base version' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'doc.txt'), 'OURS: edited on this machine');
    const target = `/dav/${a.id}/doc.txt`;
    proxy.addRule({ match: { method: 'PUT', path: target }, action: { kind: 'delay', ms: 1500 }, times: 1 });
    const logStart = apache.accessLog().length;
    const running = a.run('sync', '--once');
    await proxy.waitFor((q) => q.method === 'PUT' && q.path === target);
    await a.serverWrite('doc.txt', 'THEIRS: written by another client meanwhile', 5_000);
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/conflict: \/doc\.txt/);
    const ourPut = (await apache.waitForAccessLog((e) => e.slice(logStart).some((x) => x.method === 'PUT' && x.target === target))).slice(logStart).find((x) => x.method === 'PUT' && x.target === target);
    expect(ourPut?.status).toBe(412);
    expect(ourPut?.ifMatch).toMatch(/^"/);
    expect(await readFile(join(a.local, 'doc.txt'), 'utf8')).toBe('THEIRS: written by another client meanwhile');
    expect((await a.serverRead('doc.txt')).toString()).toBe('THEIRS: written by another client meanwhile');
    const copies = await conflictCopies(a.local, 'doc');
    expect(copies).toHaveLength(1);
    expect(await readFile(join(a.local, copies[0] ?? ''), 'utf8')).toBe('OURS: edited on this machine');
    expect((await a.serverRead(copies[0] ?? '')).toString()).toBe('OURS: edited on this machine');
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
    // Settled: the next pass has nothing to do.
    const again = apache.accessLog().length;
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(apache.accessLog().slice(again).filter((e) => e.method !== 'PROPFIND')).toEqual([]);
  });
});

describe('F12: the local side changes during a sync', () => {
  it('F12: the file is rewritten while its upload streams; the final remote holds the latest local bytes (follow-up pass by itself); 50 new files are picked up by the next cycle', async () => {
    const a = await viaProxy({ 'big.bin': 'x' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    const file = join(a.local, 'big.bin');
    const first = Buffer.alloc(6 << 20, 1);
    await writeFile(file, first);
    const target = `/dav/${a.id}/big.bin`;
    // About 1.5 s for the first upload's body: time to rewrite the file under it.
    proxy.addRule({ match: { method: 'PUT', path: target }, action: { kind: 'throttle', bytesPerSecond: 4 << 20, direction: 'request' }, times: 1 });
    const running = a.run('sync', '--once');
    await proxy.waitFor((q) => q.method === 'PUT' && q.path === target && q.bytesIn > 1 << 20);
    const latest = Buffer.concat([Buffer.alloc(3 << 20, 2), Buffer.from('the latest local edit')]);
    await writeFile(file, latest); // in place: the upload reads a file that changes under it
    for (let i = 0; i < 50; i++) await writeFile(join(a.local, `during-${i}.txt`), `appeared during the sync ${i}`);
    const r = await running;
    expect(r.code).toBe(0);
    expect((await a.serverRead('big.bin')).equals(latest)).toBe(true);
    expect(await conflictCopies(a.local, 'big')).toEqual([]);
    const next = await a.run('sync', '--once');
    expect(next.code).toBe(0);
    for (let i = 0; i < 50; i++) expect((await a.serverRead(`during-${i}.txt`)).toString()).toBe(`appeared during the sync ${i}`);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
  });
});

describe('F13: a proxy that turns every ETag weak', () => {
  const viaWeak = (files: Record<string, string> = {}): Promise<ScenarioAccount> => account({ server: apache, work: temp.path, davRoot: weak.url(apache.url), files });

  it('F13: syncs both ways with no 412 loop, never a weak tag in If-Match, and a no-op resync moves nothing', async () => {
    const a = await viaWeak({ 'a.txt': 'alpha', 'b.txt': 'bravo', 'd/c.txt': 'charlie' });
    const logStart = apache.accessLog().length;
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(await readFile(join(a.local, 'd/c.txt'), 'utf8')).toBe('charlie');
    await writeFile(join(a.local, 'a.txt'), 'alpha, edited here');
    await writeFile(join(a.local, 'new.txt'), 'new here');
    await a.serverWrite('b.txt', 'bravo, edited there', 3_000);
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await a.serverRead('a.txt')).toString()).toBe('alpha, edited here');
    expect(await readFile(join(a.local, 'b.txt'), 'utf8')).toBe('bravo, edited there');
    await sleep(1100); // Apache's own tags are weak for a second after a change: let them settle
    const settled = apache.accessLog().length;
    expect((await a.run('sync', '--once')).code).toBe(0);
    const log = await apache.waitForAccessLog((e) => e.length > settled);
    expect(log.slice(settled).filter((e) => e.method !== 'PROPFIND')).toEqual([]);
    const mine = log.slice(logStart).filter((e) => e.target.includes(`/${a.id}/`));
    expect(mine.filter((e) => e.ifMatch?.startsWith('W/') === true)).toEqual([]);
    expect(mine.filter((e) => e.status === 412)).toEqual([]);
    expect(mine.filter((e) => e.method === 'PUT').length).toBe(2);
  });

  it('F13: a remote edit made concurrently with ours is still detected (not overwritten): before the pass, and between discovery and the upload', async () => {
    const a = await viaWeak({ 'both.txt': 'base', 'late.txt': 'base' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'both.txt'), 'ours, both');
    await writeFile(join(a.local, 'late.txt'), 'ours, late');
    await a.serverWrite('both.txt', 'theirs, before the pass', 3_000);
    // late.txt changes on the server after discovery, while the upload's re-check is held.
    const target = `/dav/${a.id}/late.txt`;
    // (The first rule that fires applies: the held answer itself is not made weak.)
    weak.clearRules();
    weak.addRule({ name: 'hold late stat', match: { method: 'PROPFIND', path: target, when: (q) => q.headers['depth'] === '0', nth: 1 }, action: { kind: 'delay', ms: 1200 } });
    weak.addRule({ name: 'weak', action: { kind: 'weak-etags' } });
    try {
      const running = a.run('sync', '--once');
      await weak.waitFor((q) => q.method === 'PROPFIND' && q.path === target);
      await a.serverWrite('late.txt', 'theirs, during the pass', 2_000);
      const r = await running;
      expect(r.code).toBe(0);
    } finally {
      weak.clearRules();
      weak.addRule({ name: 'weak', action: { kind: 'weak-etags' } });
    }
    for (const [name, theirs, ours] of [['both', 'theirs, before the pass', 'ours, both'], ['late', 'theirs, during the pass', 'ours, late']] as const) {
      expect((await a.serverRead(`${name}.txt`)).toString()).toBe(theirs);
      expect(await readFile(join(a.local, `${name}.txt`), 'utf8')).toBe(theirs);
      const copies = await conflictCopies(a.local, name);
      expect(copies).toHaveLength(1);
      expect(await readFile(join(a.local, copies[0] ?? ''), 'utf8')).toBe(ours);
      expect((await a.serverRead(copies[0] ?? '')).toString()).toBe(ours);
    }
  });
});

// F14 (and F12) end to end against `rclone serve webdav`, which ignores If-Match on PUT and DELETE
// (capabilities() finds that out): a second writer's edit is never silently lost. The fault
// proxy holds one request open while the second writer writes straight into rclone's folder.
//
//   pre-check   stat (held) ... second writer ... -> stat sees the change -> conflict copy
//   post-check  PUT ours -> stat (held) ... second writer ... -> stat sees other bytes -> conflict copy
//   delete      stat (held) ... second writer ... -> not deleted; the edit comes down instead
import { readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, startRcloneServe, type FaultProxy, type ProxiedRequest, type RcloneServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf, manifest, type ScenarioAccount } from './scenario-kit.js';

let rclone: RcloneServer;
let proxy: FaultProxy;
let temp: TempDir;

beforeAll(async () => {
  rclone = await startRcloneServe();
  proxy = await startFaultProxy({ target: rclone.origin });
  temp = await makeTempDir('netfs-scen-rclone-');
});
afterEach(() => proxy.clearRules());
afterAll(async () => {
  await proxy.close();
  await rclone.stop();
  await temp.remove();
});

const viaProxy = (files: Record<string, string> = {}): Promise<ScenarioAccount> => account({ server: rclone, work: temp.path, davRoot: proxy.url(rclone.url), files });

const isStat = (q: ProxiedRequest, target: string): boolean => q.method === 'PROPFIND' && q.path === target && q.headers['depth'] === '0';

async function conflictCopies(dir: string, stem: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(`${stem} (conflicted copy `));
}

async function expectConflict(a: ScenarioAccount, stem: string, theirs: string, ours: string): Promise<void> {
  expect((await a.serverRead(`${stem}.txt`)).toString()).toBe(theirs);
  expect(await readFile(join(a.local, `${stem}.txt`), 'utf8')).toBe(theirs);
  const copies = await conflictCopies(a.local, stem);
  expect(copies).toHaveLength(1);
  expect(await readFile(join(a.local, copies[0] ?? ''), 'utf8')).toBe(ours);
  expect((await a.serverRead(copies[0] ?? '')).toString()).toBe(ours);
}

describe('F14: rclone serve webdav ignores preconditions', () => {
  it('F14: capabilities() finds If-Match ignored on PUT and DELETE', async () => {
    const a = await viaProxy({});
    const caps = JSON.parse(await readFile(join(a.state, 'capabilities.json'), 'utf8')) as { capabilities: { ifMatchOnPut: boolean; ifMatchOnDelete: boolean } };
    expect(caps.capabilities.ifMatchOnPut).toBe(false);
    expect(caps.capabilities.ifMatchOnDelete).toBe(false);
  });

  it('F14: a second writer edits after discovery, before our upload: the re-check before the PUT sees it; conflict copy, their bytes kept', async () => {
    const a = await viaProxy({ 'doc.txt': 'base' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'doc.txt'), 'ours: edited here');
    const target = `/${a.id}/doc.txt`;
    proxy.addRule({ match: { method: 'PROPFIND', path: target, when: (q) => isStat(q, target), nth: 1 }, action: { kind: 'delay', ms: 1000 } });
    const running = a.run('sync', '--once');
    await proxy.waitFor((q) => isStat(q, target));
    await a.serverWrite('doc.txt', 'theirs: the second writer', 5_000);
    const r = await running;
    expect(r.code).toBe(0);
    expect(proxy.requests.filter((q) => q.method === 'PUT' && q.path === target)).toEqual([]);
    await expectConflict(a, 'doc', 'theirs: the second writer', 'ours: edited here');
  });

  it('F14: a second writer edits right after our PUT: the check after it sees other bytes; conflict copy, nothing lost', async () => {
    const a = await viaProxy({ 'doc.txt': 'base' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'doc.txt'), 'ours: edited here');
    const target = `/${a.id}/doc.txt`;
    const afterPut = (q: ProxiedRequest): boolean => isStat(q, target) && proxy.requests.some((p) => p.method === 'PUT' && p.path === target && p.index < q.index);
    proxy.addRule({ match: { method: 'PROPFIND', path: target, when: afterPut, nth: 1 }, action: { kind: 'delay', ms: 1000 } });
    const running = a.run('sync', '--once');
    await proxy.waitFor(afterPut);
    await a.serverWrite('doc.txt', 'theirs: written just after our upload', 5_000);
    const r = await running;
    expect(r.code).toBe(0);
    await expectConflict(a, 'doc', 'theirs: written just after our upload', 'ours: edited here');
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
  });

  it('F14: a local delete meets a second writer\'s edit: the DELETE is not sent, the edit comes down (edit beats delete)', async () => {
    const a = await viaProxy({ 'gone.txt': 'base', 'other.txt': 'o' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await unlink(join(a.local, 'gone.txt'));
    const target = `/${a.id}/gone.txt`;
    proxy.addRule({ match: { method: 'PROPFIND', path: target, when: (q) => isStat(q, target), nth: 1 }, action: { kind: 'delay', ms: 1000 } });
    const running = a.run('sync', '--once');
    await proxy.waitFor((q) => isStat(q, target));
    await a.serverWrite('gone.txt', 'theirs: edited while we deleted', 5_000);
    const r = await running;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(proxy.requests.filter((q) => q.method === 'DELETE' && q.path === target)).toEqual([]);
    expect((await a.serverRead('gone.txt')).toString()).toBe('theirs: edited while we deleted');
    expect(await readFile(join(a.local, 'gone.txt'), 'utf8')).toBe('theirs: edited while we deleted');
  });

  it('F12: the file is rewritten while its upload streams to rclone: the final remote holds the latest local bytes after the follow-up pass', async () => {
    const a = await viaProxy({ 'big.bin': 'x' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    const file = join(a.local, 'big.bin');
    await writeFile(file, Buffer.alloc(6 << 20, 1));
    const target = `/${a.id}/big.bin`;
    proxy.addRule({ match: { method: 'PUT', path: target }, action: { kind: 'throttle', bytesPerSecond: 4 << 20, direction: 'request' }, times: 1 });
    const running = a.run('sync', '--once');
    await proxy.waitFor((q) => q.method === 'PUT' && q.path === target && q.bytesIn > 1 << 20);
    const latest = Buffer.concat([Buffer.alloc(3 << 20, 2), Buffer.from('the latest local edit')]);
    await writeFile(file, latest);
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect((await a.serverRead('big.bin')).equals(latest)).toBe(true);
    expect(await conflictCopies(a.local, 'big')).toEqual([]);
  });

  it('F14: plain two-way sync against rclone converges (adds, edits, deletes both ways) and a resync moves nothing', async () => {
    const a = await viaProxy({ 'r1.txt': 'r1', 'd/r2.txt': 'r2', 'del-there.txt': 'x', 'del-here.txt': 'y' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'l1.txt'), 'l1');
    await writeFile(join(a.local, 'd/r2.txt'), 'r2 edited here');
    await unlink(join(a.local, 'del-here.txt'));
    await unlink(join(a.remoteDir, 'del-there.txt'));
    await a.serverWrite('r1.txt', 'r1 edited there');
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
    expect([...(await manifest(a.local)).keys()].sort()).toEqual(['d/r2.txt', 'l1.txt', 'r1.txt']);
    const from = proxy.requests.length;
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(proxy.requests.slice(from).filter((q) => q.method !== 'PROPFIND')).toEqual([]);
  });
});

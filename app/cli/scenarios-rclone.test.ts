// F14 (and F12) end to end against `rclone serve webdav`, which ignores If-Match on PUT and DELETE
// (capabilities() finds that out): a second writer's edit is never silently lost. The fault
// proxy holds one request open while the second writer writes straight into rclone's folder.
//
//   pre-check   stat (held) ... second writer ... -> stat sees the change -> conflict copy
//   post-check  PUT ours -> stat (held) ... second writer ... -> stat sees other bytes -> conflict copy
//   delete      stat (held) ... second writer ... -> not deleted; the edit comes down instead
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, startRcloneServe, type FaultProxy, type ProxiedRequest, type RcloneServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { UPLOAD_RECORDS_DIR } from '../sync/upload-temp.js';
import { account, allPaths, entriesOf, exists, manifest, sleep, type ScenarioAccount } from './scenario-kit.js';
import { spawnCli } from './testing.js';

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
/** A MOVE whose Destination is `target` (a raw request path). */
const isMoveOnto = (q: ProxiedRequest, target: string): boolean => q.method === 'MOVE' && decodeURIComponent(new URL(q.headers['destination'] ?? 'http://x/').pathname) === target;
/** Request paths of our upload temp names directly in `folder` (a raw request path ending in '/'). */
const tempIn = (folder: string): RegExp => new RegExp(`^${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.netfs-upload-[0-9a-f]{16}$`);

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
    // Our bytes reach the name by a MOVE from a temp name (rclone ignores If-Match on PUT): the stat after it.
    const afterPut = (q: ProxiedRequest): boolean => isStat(q, target) && proxy.requests.some((p) => isMoveOnto(p, target) && p.index < q.index);
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
    // The upload goes to a temp name beside the file (rclone ignores If-Match on PUT).
    const temp = tempIn(`/${a.id}/`);
    proxy.addRule({ match: { method: 'PUT', path: temp }, action: { kind: 'throttle', bytesPerSecond: 4 << 20, direction: 'request' }, times: 1 });
    const running = a.run('sync', '--once');
    await proxy.waitFor((q) => q.method === 'PUT' && temp.test(q.path) && q.bytesIn > 1 << 20);
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

// F11 against rclone, which takes a PUT whatever its If-Match says: ours goes to a temp name
// beside the file, the name is re-checked, then the temp is MOVEd onto the name, or onto a
// conflict copy's name when the server's copy changed during the upload (step-upload-temp.ts).
// The proxy throttles our PUT so the second writer lands while it streams.
describe('F11, B7: rclone serve webdav: uploads go through a temp name, so an edit landing mid-upload is never overwritten', () => {
  const serverTemps = async (a: ScenarioAccount): Promise<string[]> => (await allPaths(a.remoteDir)).filter((p) => /(^|\/)\.netfs-upload-/.test(p));
  const records = (a: ScenarioAccount): Promise<string[]> => readdir(join(a.local, UPLOAD_RECORDS_DIR)).catch(() => []);

  /** Our PUT to a temp matching `temp` still streaming, past `bytes` (polled: waitFor wakes on request events, not on body bytes). */
  async function uploadStreaming(temp: RegExp, bytes: number, timeoutMs = 20_000): Promise<ProxiedRequest> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = proxy.requests.find((q) => q.method === 'PUT' && temp.test(q.path) && q.outcome === 'pending' && q.bytesIn > bytes);
      if (hit !== undefined) return hit;
      if (Date.now() > until) throw new Error(`no PUT to ${String(temp)} streaming past ${bytes} bytes within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  async function expectOursAsCopy(a: ScenarioAccount, name: string, theirs: string, ours: Buffer, from: number): Promise<void> {
    const slash = name.lastIndexOf('/');
    const folder = name.slice(0, slash + 1);
    const stem = name.slice(slash + 1).replace(/\.[^.]*$/, '');
    const target = `/${a.id}/${name}`;
    const seen = proxy.requests.slice(from);
    expect(seen.filter((q) => q.method === 'PUT' && q.path === target)).toEqual([]);
    expect(seen.filter((q) => isMoveOnto(q, target))).toEqual([]);
    expect((await a.serverRead(name)).toString()).toBe(theirs);
    expect(await readFile(join(a.local, name), 'utf8')).toBe(theirs);
    const copies = (await conflictCopies(join(a.local, folder), stem)).map((n) => folder + n);
    expect(copies).toHaveLength(1);
    const copy = copies[0] ?? '';
    expect((await readFile(join(a.local, copy))).equals(ours)).toBe(true);
    expect((await a.serverRead(copy)).equals(ours)).toBe(true);
    // Uploaded once: the temp itself became the copy.
    expect(seen.filter((q) => q.method === 'PUT')).toHaveLength(1);
    expect(seen.filter((q) => isMoveOnto(q, `/${a.id}/${copy}`))).toHaveLength(1);
    const listed = await a.run('conflicts', '--json');
    expect(listed.stdout).toContain(`/${name}`);
    expect(listed.stdout).toContain(copy);
    expect(await serverTemps(a)).toEqual([]);
    expect(await records(a)).toEqual([]);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
    // Settled: the next pass only looks.
    const again = proxy.requests.length;
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(proxy.requests.slice(again).filter((q) => q.method !== 'PROPFIND')).toEqual([]);
  }

  it('F11: the server copy of an existing file changes during our PUT: theirs keeps the name, ours is a conflict copy with our bytes on both sides', async () => {
    const a = await viaProxy({ 'doc.bin': 'base version' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    const ours = Buffer.concat([Buffer.from('OURS '), randomBytes(6 << 20)]);
    await writeFile(join(a.local, 'doc.bin'), ours);
    const temp = tempIn(`/${a.id}/`);
    proxy.addRule({ match: { method: 'PUT', path: temp }, action: { kind: 'throttle', bytesPerSecond: 4 << 20, direction: 'request' }, times: 1 });
    const from = proxy.requests.length;
    const running = a.run('sync', '--once');
    const put = await uploadStreaming(temp, 1 << 20);
    const theirs = 'THEIRS: written by another client while ours uploaded';
    await a.serverWrite('doc.bin', theirs, 5_000);
    expect(put.outcome).toBe('pending'); // theirs landed while ours was still streaming
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/conflict: \/doc\.bin changed on both sides/);
    await expectOursAsCopy(a, 'doc.bin', theirs, ours, from);
  });

  it('F11: a new file of ours and one of theirs under the same name, created during our PUT: theirs keeps the name, ours is the copy', async () => {
    const a = await viaProxy({ 'other.txt': 'o' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await mkdir(join(a.local, 'sub'));
    const ours = randomBytes(6 << 20);
    await writeFile(join(a.local, 'sub/new.bin'), ours);
    const temp = tempIn(`/${a.id}/sub/`);
    proxy.addRule({ match: { method: 'PUT', path: temp }, action: { kind: 'throttle', bytesPerSecond: 4 << 20, direction: 'request' }, times: 1 });
    const from = proxy.requests.length;
    const running = a.run('sync', '--once');
    const put = await uploadStreaming(temp, 1 << 20);
    const theirs = 'THEIRS: created under the same name meanwhile';
    await a.serverWrite('sub/new.bin', theirs, 5_000);
    expect(put.outcome).toBe('pending');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    await expectOursAsCopy(a, 'sub/new.bin', theirs, ours, from);
  });

  it('B7: SIGKILL mid-PUT leaves the name as it was on rclone (the cut bytes sit under an ignored temp name); the next pass removes the temp and converges', async () => {
    const a = await viaProxy({ 'sub/doc.bin': 'base version', 'sub/keep.txt': 'k' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    // Larger than what the loopback socket buffers take in (4 MiB send + up to 32 MiB receive
    // here): a killed client's buffered bytes still arrive, so the cut must come before those.
    const ours = randomBytes(48 << 20);
    await writeFile(join(a.local, 'sub/doc.bin'), ours);
    const temp = tempIn(`/${a.id}/sub/`);
    proxy.addRule({ match: { method: 'PUT', path: temp }, action: { kind: 'throttle', bytesPerSecond: 4 << 20, direction: 'request' }, times: 1 });
    const child = spawnCli(['sync', '--once', '--state', a.state]);
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const put = await uploadStreaming(temp, 1 << 20, 60_000);
    child.kill('SIGKILL');
    await exited;
    await proxy.waitFor((q) => q.index === put.index && q.outcome !== 'pending', 30_000);
    proxy.clearRules();
    // The name still holds the version before ours; only the (ignored) temp holds cut bytes.
    expect((await a.serverRead('sub/doc.bin')).toString()).toBe('base version');
    const left = await serverTemps(a);
    expect(left).toEqual([decodeURIComponent(put.path).slice(`/${a.id}/`.length)]);
    // (rclone preallocates the announced length: the cut shows in the bytes, not the size.)
    expect((await a.serverRead(left[0] ?? '')).equals(ours)).toBe(false);
    expect(await records(a)).toHaveLength(1);

    const from = proxy.requests.length;
    const r = await a.run('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.requests.slice(from).filter((q) => q.method === 'DELETE' && q.path === put.path)).toHaveLength(1);
    expect((await a.serverRead('sub/doc.bin')).equals(ours)).toBe(true);
    expect(await serverTemps(a)).toEqual([]);
    expect(await records(a)).toEqual([]);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
  });

  it('B7: temp names on the server that are not ours (another client mid-upload) are never synced down, listed or deleted', async () => {
    const foreign = { 'sub/.netfs-upload-0123456789abcdef': 'another client, mid-upload', '.netfs-upload-fedcba9876543210': 'top level too' };
    const a = await viaProxy({ 'sub/f.txt': 'f', ...foreign });
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const p of Object.keys(foreign)) expect(await exists(join(a.local, p)), p).toBe(false);
    expect((await a.run('ls', '-R')).stdout).not.toContain('.netfs-upload-');
    // An upload into the same folder (its sweep included) leaves them alone too.
    await writeFile(join(a.local, 'sub/f.txt'), 'f edited here');
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect((await a.serverRead('sub/f.txt')).toString()).toBe('f edited here');
    expect((await serverTemps(a)).sort()).toEqual(Object.keys(foreign).sort());
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir, (p) => p in foreign)));
  });
});

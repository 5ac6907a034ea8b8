// Server faults end to end through `netfs-sync sync --once`, with the fault proxy in front of a
// real Apache (test-scenarios.md §6.2): F4 (one folder's listing fails), F5 (the root's listing
// is unusable), F6 (one path always 500), F7 (maintenance), F9 (423), F10 (507 over a size),
// F1 (1 request in 20 reset over a 500-file two-way sync).
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, startApache, startFaultProxy, type ApacheServer, type FaultAction, type FaultProxy } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf, leftovers, manifest, sleep, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';

let apache: ApacheServer;
let proxy: FaultProxy;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  temp = await makeTempDir('netfs-scen-faults-');
});
afterEach(() => proxy.clearRules());
afterAll(async () => {
  await proxy.close();
  await apache.stop();
  await temp.remove();
});

const viaProxy = (files: Record<string, string | Uint8Array> = {}): Promise<ScenarioAccount> =>
  account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url), files });

/** Requests the proxy saw from index `from` on for this account. */
function requestsOf(a: ScenarioAccount, from: number): typeof proxy.requests {
  return proxy.requests.slice(from).filter((r) => r.path.includes(`/${a.id}/`));
}

interface Failure {
  path: string;
  code: string;
  attempts: number;
  nextRetryMs: number;
}
async function failures(a: ScenarioAccount): Promise<Failure[]> {
  return (JSON.parse((await a.run('status', '--json')).stdout) as { failures: Failure[] }).failures;
}

describe('F4: one sub-folder cannot be listed', () => {
  it.each([403, 404, 500, 503])('F4: PROPFIND of /blocked answers %i: that folder untouched on both sides, the others converge', async (status) => {
    const a = await viaProxy({ 'blocked/b1.txt': 'b1', 'blocked/b2.txt': 'b2', 'open/o1.txt': 'o1', 'open/o2.txt': 'o2', 'top.txt': 't' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    // Changes on both sides, in both folders.
    for (const dir of ['blocked', 'open']) {
      await writeFile(join(a.local, dir, 'new-local.txt'), `new local in ${dir}`);
      await unlink(join(a.local, dir, `${dir[0]}1.txt`));
      await a.serverWrite(`${dir}/new-remote.txt`, `new remote in ${dir}`);
      await unlink(join(a.remoteDir, dir, `${dir[0]}2.txt`));
    }
    const blockedLocal = await manifest(join(a.local, 'blocked'));
    const blockedServer = await manifest(join(a.remoteDir, 'blocked'));
    proxy.addRule({ match: { method: 'PROPFIND', path: { prefix: `/dav/${a.id}/blocked` } }, action: { kind: 'status', status } });
    const r = await a.run('sync', '--once');
    expect(r.stderr).toMatch(/server folder \/blocked skipped/);
    expect(r.code).toBe(5);
    expect(entriesOf(await manifest(join(a.local, 'blocked')))).toEqual(entriesOf(blockedLocal));
    expect(entriesOf(await manifest(join(a.remoteDir, 'blocked')))).toEqual(entriesOf(blockedServer));
    const open = (m: Map<string, string>): [string, string][] => entriesOf(m).filter(([p]) => !p.startsWith('blocked/'));
    expect(open(await manifest(a.local))).toEqual(open(await manifest(a.remoteDir)));
    expect([...(await manifest(join(a.local, 'open'))).keys()].sort()).toEqual(['new-local.txt', 'new-remote.txt']);
    // The fault gone: the blocked folder converges too, its changes on both sides kept.
    proxy.clearRules();
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
    expect([...(await manifest(join(a.local, 'blocked'))).keys()].sort()).toEqual(['new-local.txt', 'new-remote.txt']);
  });
});

describe('F5: the root listing is unusable', () => {
  const cases: [string, FaultAction, RegExp][] = [
    ['400', { kind: 'status', status: 400, body: 'bad request' }, /400|bad request/i],
    ['401', { kind: 'status', status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' } }, /401|auth|credential|password/i],
    ['HTML 200', { kind: 'status', status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html><body>Welcome to the portal</body></html>' }, /root folder.*HTTP 200/],
    ['truncated XML', { kind: 'truncate', afterBodyBytes: 200 }, /PROPFIND|listing|cut|short|end|closed/i],
  ];
  it.each(cases)('F5: root PROPFIND %s -> exit 1 with a clear message, zero deletes anywhere; the next good sync converges', async (_name, action, message) => {
    const a = await viaProxy({ 'keep.txt': 'k', 'gone-there.txt': 'g', 'd/x.txt': 'x' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await unlink(join(a.remoteDir, 'gone-there.txt'));
    await unlink(join(a.local, 'd/x.txt'));
    const local = await manifest(a.local);
    const server = await manifest(a.remoteDir);
    const from = proxy.requests.length;
    proxy.addRule({ match: { method: 'PROPFIND', path: `/dav/${a.id}/` }, action });
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(requestsOf(a, from).filter((q) => q.method !== 'PROPFIND')).toEqual([]);
    expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(local));
    expect(entriesOf(await manifest(a.remoteDir))).toEqual(entriesOf(server));
    proxy.clearRules();
    expect((await a.run('sync', '--once')).code).toBe(0);
    expect([...(await manifest(a.local)).keys()].sort()).toEqual(['keep.txt']);
    expect([...(await manifest(a.remoteDir)).keys()].sort()).toEqual(['keep.txt']);
  });

  it('F5: a sub-folder answering 400 fails the whole sync too (zero deletes)', async () => {
    const a = await viaProxy({ 'keep.txt': 'k', 'gone-there.txt': 'g', 'sub/y.txt': 'y' });
    expect((await a.run('sync', '--once')).code).toBe(0);
    await unlink(join(a.remoteDir, 'gone-there.txt'));
    const from = proxy.requests.length;
    proxy.addRule({ match: { method: 'PROPFIND', path: { prefix: `/dav/${a.id}/sub` } }, action: { kind: 'status', status: 400 } });
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\/sub/);
    expect(requestsOf(a, from).filter((q) => q.method !== 'PROPFIND')).toEqual([]);
    expect(await readFile(join(a.local, 'gone-there.txt'), 'utf8')).toBe('g');
  });
});

describe('F6: one path answers 500 on every try', () => {
  it('F6: listed with attempts and next retry; retried only when due or edited; after the fault clears it syncs and the failure goes', async () => {
    const a = await viaProxy({ 'other.txt': 'o' });
    expect((await a.run('config', 'set', 'backoffBaseMs', '1000')).code).toBe(0);
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'bad.txt'), 'bad v1');
    await writeFile(join(a.local, 'good.txt'), 'good');
    proxy.addRule({ match: { method: 'PUT', path: `/dav/${a.id}/bad.txt` }, action: { kind: 'status', status: 500, body: 'internal error' } });
    const putsOfBad = (): number => proxy.requests.filter((q) => q.method === 'PUT' && q.path === `/dav/${a.id}/bad.txt`).length;

    const first = await a.run('sync', '--once');
    expect(first.code).toBe(5);
    expect(first.stderr).toMatch(/\/bad\.txt: .*\(attempt 1, next try \d{4}-\d\d-\d\dT/);
    expect(await readFile(join(a.remoteDir, 'good.txt'), 'utf8')).toBe('good');
    const [f1] = await failures(a);
    expect(f1?.path).toBe('/bad.txt');
    expect(f1?.attempts).toBe(1);
    const puts1 = putsOfBad();
    expect(puts1).toBeGreaterThanOrEqual(1);
    expect(puts1).toBeLessThanOrEqual(4); // the engine's own retries of one attempt

    // Not due yet: no attempt, the count stays.
    const waiting = await a.run('sync', '--once');
    expect(waiting.code).toBe(5);
    expect(putsOfBad()).toBe(puts1);
    expect((await failures(a))[0]?.attempts).toBe(1);

    // A local edit retries at once: a real attempt, the count and the wait grow.
    await writeFile(join(a.local, 'bad.txt'), 'bad v2, edited');
    expect((await a.run('sync', '--once')).code).toBe(5);
    const [f2] = await failures(a);
    expect(f2?.attempts).toBe(2);
    expect(putsOfBad()).toBeGreaterThan(puts1);
    expect((f2?.nextRetryMs ?? 0) - Date.now()).toBeGreaterThan(2_000); // 1 s x 5
    const puts2 = putsOfBad();
    expect((await a.run('sync', '--once')).code).toBe(5);
    expect(putsOfBad()).toBe(puts2);
    expect((await failures(a))[0]?.attempts).toBe(2);

    // The fault clears; once due, it syncs and the failure is gone.
    proxy.clearRules();
    await sleep(Math.max(0, (f2?.nextRetryMs ?? 0) - Date.now()) + 50);
    const ok = await a.run('sync', '--once');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(await readFile(join(a.remoteDir, 'bad.txt'), 'utf8')).toBe('bad v2, edited');
    expect(await failures(a)).toEqual([]);
  });
});

describe('F7: server maintenance', () => {
  it('F7: 503 with a maintenance body on PUT stops the pass early (no per-file storm); it converges once the server is back', async () => {
    const a = await viaProxy({});
    expect((await a.run('sync', '--once')).code).toBe(0);
    for (let i = 0; i < 30; i++) await writeFile(join(a.local, `m${i}.txt`), `file ${i}`);
    const from = proxy.requests.length;
    proxy.addRule({ match: { method: ['PUT', 'MKCOL', 'DELETE', 'MOVE', 'GET'] }, action: { kind: 'status', status: 503 } });
    const r = await a.run('sync', '--once');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/503|maintenance|unavailable/i);
    const puts = requestsOf(a, from).filter((q) => q.method === 'PUT');
    // At most the transfers in flight (4), each with the engine's retries: never one per file.
    expect(puts.length).toBeLessThanOrEqual(16);
    expect(new Set(puts.map((q) => q.path)).size).toBeLessThanOrEqual(4);
    proxy.clearRules();
    const back = await a.run('sync', '--once');
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect((await manifest(a.remoteDir)).size).toBe(30);
  });
});

describe('F9: a locked file', () => {
  it('F9: 423 on PUT of one file: the change stays pending (not marked synced), others sync; applied after unlock within one backoff', async () => {
    const a = await viaProxy({ 'locked.txt': 'v1', 'free.txt': 'v1' });
    expect((await a.run('config', 'set', 'backoffBaseMs', '1000')).code).toBe(0);
    expect((await a.run('sync', '--once')).code).toBe(0);
    await writeFile(join(a.local, 'locked.txt'), 'v2 of the locked file');
    await writeFile(join(a.local, 'free.txt'), 'v2 of the free file');
    await writeFile(join(a.local, 'added.txt'), 'added');
    const lock = proxy.addRule({ match: { method: ['PUT', 'DELETE', 'MOVE'], path: `/dav/${a.id}/locked.txt` }, action: { kind: 'status', status: 423, body: 'Locked' } });
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/\/locked\.txt/);
    expect(await readFile(join(a.remoteDir, 'free.txt'), 'utf8')).toBe('v2 of the free file');
    expect(await readFile(join(a.remoteDir, 'added.txt'), 'utf8')).toBe('added');
    expect(await readFile(join(a.remoteDir, 'locked.txt'), 'utf8')).toBe('v1');
    expect(await readFile(join(a.local, 'locked.txt'), 'utf8')).toBe('v2 of the locked file');
    const ls = await a.run('ls', '/', '--json');
    const row = (JSON.parse(ls.stdout) as { path: string; state: string; flags: string[] }[]).find((e) => e.path === '/locked.txt');
    expect(row?.state).not.toBe('synced');
    expect(lock.fired).toBeGreaterThanOrEqual(1);
    // Unlocked: applied within one backoff period.
    lock.remove();
    const [f] = await failures(a);
    await sleep(Math.max(0, (f?.nextRetryMs ?? 0) - Date.now()) + 50);
    const after = await a.run('sync', '--once');
    expect(after.code).toBe(0);
    expect(await readFile(join(a.remoteDir, 'locked.txt'), 'utf8')).toBe('v2 of the locked file');
    expect(await failures(a)).toEqual([]);
  });
});

describe('F10: server quota', () => {
  it('F10: PUTs over 1,000 bytes get 507: no further PUT of that size or more in the run, smaller ones upload, exit 5 naming the quota', async () => {
    const a = await viaProxy({});
    // One transfer at a time, so "after the first 507" is exact (with 4, PUTs already sent may still get theirs).
    expect((await a.run('config', 'set', 'transfers', '1')).code).toBe(0);
    expect((await a.run('sync', '--once')).code).toBe(0);
    const sizes: Record<string, number> = { 'a-small.bin': 300, 'b-big.bin': 4000, 'c-small.bin': 900, 'd-bigger.bin': 6000, 'e-mid.bin': 2500, 'f-tiny.bin': 10, 'g-big.bin': 5000 };
    for (const [name, size] of Object.entries(sizes)) await writeFile(join(a.local, name), Buffer.alloc(size, name.charCodeAt(0)));
    const from = proxy.requests.length;
    proxy.addRule({ match: { method: 'PUT', when: (q) => Number(q.headers['content-length'] ?? 0) > 1000 }, action: { kind: 'status', status: 507, body: 'Insufficient Storage' } });
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/507|space|storage/i);
    const puts = requestsOf(a, from).filter((q) => q.method === 'PUT');
    let ceiling = Infinity;
    let refused = 0;
    for (const q of puts) {
      const size = Number(q.headers['content-length'] ?? 0);
      expect(size, `${q.path} sent after a 507 for ${ceiling} bytes`).toBeLessThan(ceiling);
      if (q.status === 507) {
        refused++;
        ceiling = Math.min(ceiling, size);
      }
    }
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(3); // no retry storm: each refusal lowers the ceiling
    for (const name of ['a-small.bin', 'c-small.bin', 'f-tiny.bin']) expect((await readFile(join(a.remoteDir, name))).length).toBe(sizes[name]);
    const failed = (await failures(a)).map((f) => f.path).sort();
    expect(failed).toEqual(['/b-big.bin', '/d-bigger.bin', '/e-mid.bin', '/g-big.bin']);
    expect((await failures(a)).every((f) => f.code === 'INSUFFICIENT_STORAGE')).toBe(true);
  });
});

describe('F1: connection resets', () => {
  it('F1: 1 request in 20 reset at a random point over a 500-file two-way sync: converged within 3 sync --once runs, no partial file', async () => {
    const seed = Number(process.env['NETFS_F1_SEED'] ?? Date.now() % 100_000);
    console.log(`F1 seed ${seed} (NETFS_F1_SEED=${seed} replays it)`);
    const files: Record<string, string> = {};
    for (let i = 0; i < 250; i++) files[`down/d${i % 10}/r${i}.txt`] = `remote ${i} `.repeat(1 + (i % 7) * 300);
    const a = await viaProxy(files);
    for (let i = 0; i < 250; i++) await a.localWrite(`up/u${i % 10}/l${i}.txt`, `local ${i} `.repeat(1 + (i % 5) * 400));
    const random = seededRandom(seed);
    const points = ['before-headers', 'mid-headers', 'mid-body'] as const;
    proxy.addRule({
      match: { path: { prefix: `/dav/${a.id}/` }, every: 20, seed },
      action: (): FaultAction => {
        const at = points[Math.floor(random() * 3)] ?? 'mid-body';
        const forward = random() < 0.5;
        return { kind: 'reset', at, afterBodyBytes: Math.floor(random() * 2000), ...(at === 'before-headers' && forward ? { forward } : {}) };
      },
    });
    const codes: number[] = [];
    for (let run = 0; run < 3; run++) {
      const r = await a.run('sync', '--once');
      codes.push(r.code);
      expect(await leftovers(a.local)).toEqual([]);
      if (r.code === 0) break;
    }
    expect(codes[codes.length - 1], `exit codes of the runs: ${codes.join(', ')} (seed ${seed})`).toBe(0);
    proxy.clearRules();
    const local = await manifest(a.local);
    expect(local.size).toBe(500);
    expect(entriesOf(local)).toEqual(entriesOf(await manifest(a.remoteDir)));
    for (const [p, text] of Object.entries(files)) expect(await readFile(join(a.local, p), 'utf8')).toBe(text);
    expect(await stagingLeftovers(a.state)).toEqual([]);
    expect(await leftovers(a.remoteDir)).toEqual([]);
  });
});

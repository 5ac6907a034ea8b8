// F2 at sync level (test-scenarios.md §6.2): a GET body cut after 3 MB of a 30 MB file (the
// fault proxy sends the full Content-Length, then EOF), through a whole `netfs-sync sync --once`
// against a real Apache. The engine reads a synced file in ranged GETs of rsize (4 MiB), 4 at a
// time, staged in the cache, and placed by one rename once whole.
//
//   cut once            -> the engine asks for the rest of that GET from byte 3145728 in the same
//                          pass; every byte fetched once; nothing under the name until whole
//   cut, then the file  -> soft error (exit 5, the item listed), not committed; the first 3 MB
//   fails for the pass     stay in the staging object, so the next pass resumes from byte 3145728
//                          and converges with the right bytes, each fetched exactly once
//   cut, then Range     -> 200 with the whole body is refused (too much data), the engine starts
//   ignored                again from 0 in one whole GET: right bytes, never appended twice; a
//                          file bigger than the engine reads whole (half its buffer pool) fails
//                          softly instead and converges once the server honours Range again
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApache, startFaultProxy, type ApacheServer, type FaultProxy, type ProxiedRequest } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf, exists, leftovers, manifest, sleep, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';

let apache: ApacheServer;
let proxy: FaultProxy;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  temp = await makeTempDir('netfs-scen-f2-');
});
afterEach(() => proxy.clearRules());
afterAll(async () => {
  await proxy.close();
  await apache.stop();
  await temp.remove();
});

const MB = 1 << 20;
const CUT = 3 * MB; // 3145728
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function content(size: number, tag: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32LE((i * 2654435761 + tag) >>> 0, i);
  return b;
}

/** [start, end) a GET asked for (the whole file without Range). */
function rangeOf(q: ProxiedRequest, size: number): [number, number] {
  const m = /^bytes=(\d+)-(\d*)$/.exec(q.headers['range'] ?? '');
  return m === null ? [0, size] : [Number(m[1]), m[2] === '' ? size : Number(m[2]) + 1];
}

/** Bytes of [0, size) that more than one of these GETs delivered (what would be "appended twice"). */
function fetchedTwice(gets: readonly ProxiedRequest[], size: number): number {
  const edges = gets.flatMap((q) => {
    const [start] = rangeOf(q, size);
    return [
      [start, 1],
      [start + q.bytesOut, -1],
    ] as [number, number][];
  });
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let depth = 0;
  let twice = 0;
  let at = 0;
  for (const [pos, d] of edges) {
    if (depth > 1) twice += pos - at;
    depth += d;
    at = pos;
  }
  return twice;
}

async function setup(size: number, tag: number): Promise<{ a: ScenarioAccount; data: Buffer; target: string; gets: (from: number) => ProxiedRequest[] }> {
  const data = content(size, tag);
  const a = await account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url), files: { 'big.bin': data, 'small.txt': 'small' } });
  const target = `/dav/${a.id}/big.bin`;
  return { a, data, target, gets: (from) => proxy.requests.slice(from).filter((q) => q.method === 'GET' && q.path === target) };
}

async function expectConverged(a: ScenarioAccount, data: Buffer): Promise<void> {
  const got = await readFile(join(a.local, 'big.bin'));
  expect(got.length).toBe(data.length);
  expect(sha(got)).toBe(sha(data));
  expect(entriesOf(await manifest(a.local))).toEqual(entriesOf(await manifest(a.remoteDir)));
  expect(await leftovers(a.local)).toEqual([]);
  expect(await stagingLeftovers(a.state)).toEqual([]);
}

describe('F2: a GET body cut short under a full Content-Length', () => {
  it('F2: cut after 3 MB of 30 MB: the same pass asks for exactly the rest of that GET from byte 3145728; nothing under the name until whole; each byte fetched once; right hash', async () => {
    const { a, data, target, gets } = await setup(30_000_000, 1);
    const from = proxy.requests.length;
    proxy.addRule({ match: { method: 'GET', path: target, nth: 1 }, action: { kind: 'truncate', afterBodyBytes: CUT } });
    const running = a.run('sync', '--once');
    await proxy.waitFor((q) => q.index >= from && q.method === 'GET' && q.path === target && (q.headers['range'] ?? '').startsWith(`bytes=${CUT}-`));
    expect(await exists(join(a.local, 'big.bin'))).toBe(false); // not committed while a part is missing
    const r = await running;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expectConverged(a, data);
    const all = gets(from);
    const cut = all.filter((q) => q.rule !== null);
    expect(cut.map((q) => [q.headers['range'], q.outcome, q.bytesOut])).toEqual([['bytes=0-4194303', 'closed', CUT]]);
    expect(all.filter((q) => (q.headers['range'] ?? '').startsWith(`bytes=${CUT}-`)).map((q) => q.headers['range'])).toEqual([`bytes=${CUT}-4194303`]);
    expect(all.every((q) => q.headers['range'] !== undefined)).toBe(true);
    expect(fetchedTwice(all, data.length)).toBe(0);
    expect(all.reduce((n, q) => n + q.bytesOut, 0)).toBe(data.length);
  });

  it('F2: cut after 3 MB, then that file fails for the rest of the pass: soft error (exit 5, listed), not committed; the next pass resumes from the kept 3 MB (first GET from 3145728) and converges, each byte fetched exactly once', async () => {
    const { a, data, target, gets } = await setup(30_000_000, 2);
    expect((await a.run('config', 'set', 'backoffBaseMs', '100')).code).toBe(0);
    const from = proxy.requests.length;
    const cut = proxy.addRule({ match: { method: 'GET', path: target, nth: 1 }, action: { kind: 'truncate', afterBodyBytes: CUT } });
    // After the cut, every GET of the file that is sent is reset before an answer.
    proxy.addRule({ match: { method: 'GET', path: target, when: () => cut.fired > 0 }, action: { kind: 'reset', at: 'before-headers' } });
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/\/big\.bin: TRANSIENT: .*\(attempt 1, /);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(await exists(join(a.local, 'big.bin'))).toBe(false);
    expect(await readFile(join(a.local, 'small.txt'), 'utf8')).toBe('small');
    expect(await leftovers(a.local)).toEqual([]);
    const first = gets(from);
    expect(first.some((q) => (q.headers['range'] ?? '').startsWith(`bytes=${CUT}-`))).toBe(true); // the engine tried the rest first
    proxy.clearRules();
    await sleep(150); // the item's backoff (100 ms here)
    const mid = proxy.requests.length;
    const again = await a.run('sync', '--once');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    await expectConverged(a, data);
    const second = gets(mid);
    console.log(`F2 next pass GETs: ${second.map((q) => q.headers['range'] ?? 'whole').join(', ')}`);
    expect(second.every((q) => q.status === 206 && q.outcome === 'complete')).toBe(true);
    expect(fetchedTwice(second, data.length)).toBe(0);
    // The failed pass kept the cut GET's 3 MB (whole granules) in the staging object: the next
    // pass's first GET of the file starts there, nothing before it is fetched again.
    expect(second[0]?.headers['range']).toMatch(new RegExp(`^bytes=${CUT}-`));
    expect(Math.min(...second.map((q) => rangeOf(q, data.length)[0]))).toBe(CUT);
    expect(second.reduce((n, q) => n + q.bytesOut, 0)).toBe(data.length - CUT);
  });

  it('F2 variant: cut after 3 MB, then the server ignores Range (200, whole body): the engine starts again from 0 in one whole GET, never appends twice; right hash', async () => {
    const { a, data, target, gets } = await setup(12 * MB, 3);
    const from = proxy.requests.length;
    const cut = proxy.addRule({ match: { method: 'GET', path: target, nth: 1 }, action: { kind: 'truncate', afterBodyBytes: CUT } });
    proxy.addRule({ match: { method: 'GET', path: target, when: () => cut.fired > 0 }, action: { kind: 'ignore-range' } });
    const r = await a.run('sync', '--once');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await expectConverged(a, data);
    const all = gets(from);
    // Answers of 200 to ranged GETs were refused; the one GET that filled the file asked from 0.
    expect(all.some((q) => q.status === 200 && q.headers['range'] !== undefined && q.outcome === 'client-gone')).toBe(true);
    const whole = all.filter((q) => q.status === 200 && q.outcome === 'complete');
    expect(whole).toHaveLength(1);
    expect(whole[0]?.bytesOut).toBe(data.length);
    expect(rangeOf(whole[0]!, data.length)[0]).toBe(0);
  });

  it('F2 variant: a 30 MB file from a server ignoring Range after the cut is more than the engine reads whole: soft error naming it, nothing under its name; it converges once Range is honoured again', async () => {
    const { a, data, target } = await setup(30_000_000, 4);
    expect((await a.run('config', 'set', 'backoffBaseMs', '100')).code).toBe(0);
    const cut = proxy.addRule({ match: { method: 'GET', path: target, nth: 1 }, action: { kind: 'truncate', afterBodyBytes: CUT } });
    proxy.addRule({ match: { method: 'GET', path: target, when: () => cut.fired > 0 }, action: { kind: 'ignore-range' } });
    const r = await a.run('sync', '--once');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/\/big\.bin: UNSUPPORTED: .*ignores Range/);
    expect(await exists(join(a.local, 'big.bin'))).toBe(false);
    expect(await leftovers(a.local)).toEqual([]);
    proxy.clearRules();
    await sleep(150);
    const again = await a.run('sync', '--once');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    await expectConverged(a, data);
  });
});

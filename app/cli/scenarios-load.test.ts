// Load and bandwidth end to end through `netfs-sync sync --once` against a real Apache:
// L1 at the sync issue's size (2,000 files / 200 MB first sync down, then up: converged, one PROPFIND Depth 1 per
// folder), and the bandwidth limit (issue 5 item 8: a token bucket shared by all transfers).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, startApache, type AccessLogEntry, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf, manifest, type ScenarioAccount } from './scenario-kit.js';

let apache: ApacheServer;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  temp = await makeTempDir('netfs-scen-load-');
});
afterAll(async () => {
  await apache.stop();
  await temp.remove();
});

/** 2,000 files in 40 folders two deep, ~200 MB together (sizes seeded, 0 to ~200 KB). */
function tree(seed: number): { folders: string[]; files: Map<string, Buffer> } {
  const random = seededRandom(seed);
  const folders: string[] = [];
  const files = new Map<string, Buffer>();
  const pool = randomBytes(256 * 1024);
  for (let f = 0; f < 40; f++) folders.push(`t${f % 8}/s${f}`);
  for (let i = 0; i < 2_000; i++) {
    const size = Math.floor(random() * 204_000);
    const start = Math.floor(random() * (pool.length - size));
    const body = Buffer.concat([Buffer.from(`${i}:`), pool.subarray(start, start + size)]);
    files.set(`${folders[i % folders.length]}/f${i}.bin`, body);
  }
  return { folders, files };
}

/** Depth-1 PROPFINDs of this account's folders, by folder (relative, no slashes at the ends). */
function listingsPerFolder(a: ScenarioAccount, entries: AccessLogEntry[]): Map<string, number> {
  const prefix = `/dav/${a.id}/`;
  const out = new Map<string, number>();
  for (const e of entries) {
    if (e.method !== 'PROPFIND' || e.depth !== '1' || !e.target.startsWith(prefix)) continue;
    const folder = decodeURIComponent(e.target.slice(prefix.length)).replace(/\/$/, '');
    out.set(folder, (out.get(folder) ?? 0) + 1);
  }
  return out;
}

function expectOneListingPerFolder(a: ScenarioAccount, entries: AccessLogEntry[], folders: readonly string[]): void {
  const seen = listingsPerFolder(a, entries);
  const all = new Set(['', ...folders, ...folders.map((f) => f.split('/')[0] ?? '')]);
  expect([...seen.keys()].sort()).toEqual([...all].sort());
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
}

describe('L1: 2,000 files / 200 MB', () => {
  it('L1: first sync down converges with one PROPFIND Depth 1 per folder and no errors; then 2,000 local files go up the same way', async () => {
    const { folders, files } = tree(1);
    let bytes = 0;
    for (const b of files.values()) bytes += b.length;
    expect(bytes).toBeGreaterThan(190e6);
    const down = await account({ server: apache, work: temp.path });
    for (const [p, body] of files) await apache.writeFile(`${down.id}/${p}`, body);
    let logStart = apache.accessLog().length;
    let t0 = Date.now();
    const r = await down.run('sync', '--once');
    const downMs = Date.now() - t0;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const local = await manifest(down.local);
    expect(local.size).toBe(2_000);
    expect(entriesOf(local)).toEqual(entriesOf(await manifest(down.remoteDir)));
    expectOneListingPerFolder(down, (await apache.waitForAccessLog((e) => e.length > logStart)).slice(logStart), folders);

    const up = await account({ server: apache, work: temp.path });
    for (const [p, body] of files) {
      await mkdir(join(up.local, p, '..'), { recursive: true });
      await writeFile(join(up.local, p), body);
    }
    logStart = apache.accessLog().length;
    t0 = Date.now();
    const u = await up.run('sync', '--once');
    const upMs = Date.now() - t0;
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(entriesOf(await manifest(up.remoteDir))).toEqual(entriesOf(await manifest(up.local)));
    const log = (await apache.waitForAccessLog((e) => e.length > logStart)).slice(logStart);
    expect(log.filter((e) => e.method === 'PUT' && e.target.startsWith(`/dav/${up.id}/`)).length).toBe(2_000);
    expect(log.filter((e) => e.status >= 400)).toEqual([]);
    console.log(`L1: ${files.size} files, ${(bytes / 1e6).toFixed(1)} MB: down ${downMs} ms, up ${upMs} ms`);
  }, 180_000);
});

describe('bandwidth limit', () => {
  it('bandwidthDownBytesPerSec 1 MiB/s: 3 MiB in 4 files takes at least ~2.5 s, arrives whole, the 4 downloads overlap', async () => {
    const bodies = [0, 1, 2, 3].map((i) => randomBytes(768 * 1024 + i));
    const a = await account({ server: apache, work: temp.path, files: Object.fromEntries(bodies.map((b, i) => [`big${i}.bin`, b])) });
    expect((await a.run('config', 'set', 'bandwidthDownBytesPerSec', '1048576')).code).toBe(0);
    const logStart = apache.accessLog().length;
    const t0 = Date.now();
    const r = await a.run('sync', '--once');
    const ms = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(2_500);
    for (const [i, b] of bodies.entries()) expect((await readFile(join(a.local, `big${i}.bin`))).equals(b)).toBe(true);
    // Parallel: every file's first GET is answered before the last file's last GET.
    const gets = (await apache.waitForAccessLog((e) => e.length > logStart)).slice(logStart).filter((e) => e.method === 'GET' && e.target.includes(`/${a.id}/big`));
    const firstEnd = (i: number): number => Math.min(...gets.filter((e) => e.target.endsWith(`big${i}.bin`)).map((e) => e.timeMs));
    const lastEnd = Math.max(...gets.map((e) => e.timeMs));
    for (let i = 0; i < 4; i++) expect(firstEnd(i)).toBeLessThan(lastEnd);
  });

  it('bandwidthUpBytesPerSec 1 MiB/s: 2 MiB in 2 files takes at least ~1.5 s and arrives whole', async () => {
    const a = await account({ server: apache, work: temp.path });
    expect((await a.run('config', 'set', 'bandwidthUpBytesPerSec', '1048576')).code).toBe(0);
    const bodies = [0, 1].map((i) => randomBytes(1024 * 1024 + i));
    for (const [i, b] of bodies.entries()) await writeFile(join(a.local, `up${i}.bin`), b);
    const t0 = Date.now();
    const r = await a.run('sync', '--once');
    const ms = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1_500);
    for (const [i, b] of bodies.entries()) expect((await a.serverRead(`up${i}.bin`)).equals(b)).toBe(true);
  });
});

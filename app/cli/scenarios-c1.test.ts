// C1 (test-scenarios.md §6.5): SIGKILL the engine at seeded random points of a two-way sync of
// 300 files while a writer in this process keeps editing and creating files in the sync folder;
// restart each time; a final clean pass converges. 50 kill points against Apache (the reference
// server), 20 against `rclone serve webdav` (the quirky one). A fault proxy in front of either
// counts requests (kill points are "after the run's k-th request" or "while a big file's GET
// has sent x bytes", the same on a fast machine and a slow one) and slows bodies a little.
//
//   round: server edits -> spawn `sync --once` + writer editing up/ -> kill point -> SIGKILL
//          -> after every kill: no file under a final name is partial or foreign (local and
//             server), the journal's integrity_check is ok, the cache's extents noted
//   end:   writer stopped -> one clean `sync --once`: exit 0 and the common oracle (a)-(e);
//          every local edit present (final name or conflict copy); no GET ever fetched again
//          bytes the cache held after a kill (resume, never from zero when it could)
//
// Local edits live under up/, server edits under down/: a conflict copy is legitimate only for
// an up/ path (a lost PUT answer followed by another edit, C3) and must hold one of the
// writer's versions of that path. The engine runs from a transpiled copy of app/ (0.4 s to
// start instead of 3 s through the TypeScript loader): 70 restarts fit the time budget.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { lstat, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCacheObjects } from '../cache/index-reader.js';
import { openStateFolder } from '../sync/state-folder.js';
import { seededRandom, startApache, startFaultProxy, startRcloneServe, type ApacheServer, type DavServer, type FaultProxy, type RcloneServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { transpileApp, type TranspiledApp } from '../testing/transpiled-app.js';
import { account, allPaths, entriesOf, exists, leftovers, manifest, sleep, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';

let apache: ApacheServer;
let rclone: RcloneServer;
let apacheProxy: FaultProxy;
let rcloneProxy: FaultProxy;
let temp: TempDir;
let app: TranspiledApp;

beforeAll(async () => {
  [apache, rclone, temp, app] = await Promise.all([startApache(), startRcloneServe(), makeTempDir('netfs-scen-c1-'), transpileApp()]);
  [apacheProxy, rcloneProxy] = await Promise.all([startFaultProxy({ target: apache.origin }), startFaultProxy({ target: rclone.origin })]);
});
afterAll(async () => {
  await Promise.all([apacheProxy?.close(), rcloneProxy?.close()]);
  await Promise.all([apache?.stop(), rclone?.stop()]);
  await temp?.remove();
  await app?.remove();
});

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const BIG = 6 << 20;
/** Names a transfer in progress may have on either side (never a final name); the final pass must leave none. */
const TEMP = /(^|\/)(\.netfs-partial-|\.netfs-upload-|\.davfs\.tmp|\.netfs-kit-)/;
const COPY = / \(conflicted copy \d{4}-\d\d-\d\d \d{6}( \d+)?\)/;

/** The path a conflict copy was made of (`a/f (conflicted copy …).txt` -> `a/f.txt`), or the path itself. */
const ownerOf = (p: string): string => p.replace(COPY, '');

function spawnSync(state: string): ChildProcess {
  return spawn(process.execPath, [app.cliEntry, 'sync', '--once', '--state', state], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `sync --once` to the end. */
async function syncOnce(state: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawnSync(state);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

function text(random: () => number, tag: string): string {
  // 100 B to ~100 KiB, most of them small.
  return `${tag}\n${'0123456789abcdefghijklmnopqrstu\n'.repeat(3 + Math.floor(random() * random() * 3000))}`;
}

function bigFile(tag: number): Buffer {
  const b = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i += 4) b.writeUInt32LE((i * 2654435761 + tag * 40503) >>> 0, i);
  return b;
}

/** One GET as a server saw it. */
interface Get {
  timeMs: number;
  /** Remote path, decoded, with a leading `/` below the account folder. */
  path: string;
  start: number;
  end: number;
}

interface Scenario {
  name: string;
  server: DavServer;
  proxy: FaultProxy;
  kills: number;
  /** The GETs the server saw for this account (Apache: its access log; rclone: the proxy's record). */
  gets(a: ScenarioAccount): Promise<Get[]>;
}

/** Everything the test wrote, per path: every version (sha256) and the last one. */
class Versions {
  readonly all = new Map<string, Set<string>>();
  /** The versions the server side had (written there, not uploaded). */
  readonly server = new Map<string, Set<string>>();
  readonly lastLocal = new Map<string, string>();
  readonly lastRemote = new Map<string, string>();
  add(path: string, hash: string, side: 'local' | 'remote'): void {
    const s = this.all.get(path) ?? new Set<string>();
    s.add(hash);
    this.all.set(path, s);
    (side === 'local' ? this.lastLocal : this.lastRemote).set(path, hash);
    if (side === 'remote') this.server.set(path, (this.server.get(path) ?? new Set<string>()).add(hash));
  }
  known(path: string, hash: string): boolean {
    return this.all.get(ownerOf(path))?.has(hash) === true;
  }
}

function parseRange(range: string | null, size: number): [number, number] {
  const m = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
  if (m === null) return [0, size];
  return [Number(m[1]), m[2] === '' ? size : Number(m[2]) + 1];
}

function accountPath(a: ScenarioAccount, target: string): string | null {
  const at = target.indexOf(`/${a.id}/`);
  return at < 0 ? null : decodeURIComponent(target.slice(at + a.id.length + 1).split('?')[0] ?? '');
}

/** sha256 of files already hashed, by path, size, mtime and inode (most files do not change between two kills). */
const hashes = new Map<string, { key: string; hash: string }>();

/** Files under final names that are not a version the test wrote (a partial or foreign file). */
async function strangers(dir: string, v: Versions): Promise<string[]> {
  const out: string[] = [];
  for (const rel of await allPaths(dir)) {
    if (TEMP.test(rel) || rel.startsWith('.netfs')) continue; // temp names, and what the client keeps at the top (.netfs*)
    const abs = join(dir, rel);
    const st = await lstat(abs).catch(() => null);
    if (st === null || !st.isFile()) continue;
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    let known = hashes.get(abs);
    if (known?.key !== key) {
      known = { key, hash: sha(await readFile(abs)) };
      hashes.set(abs, known);
    }
    if (!v.known(rel, known.hash)) out.push(rel);
  }
  return out;
}

/** Size and server date of each cache object, from the cache index (the aux data its version is known by). */
function cacheVersions(cacheDir: string): Map<string, { size: number; lastModified: number }> {
  const db = new Database(join(cacheDir, 'index.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT key, object_size AS size, last_modified AS lastModified FROM objects').all() as { key: string; size: number; lastModified: number }[];
    return new Map(rows.map((r) => [r.key, r]));
  } finally {
    db.close();
  }
}

function journalCheck(state: string): { integrity: string; files: string[] } {
  const db = new Database(join(state, 'journal.sqlite'), { readonly: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    const files = (db.prepare("SELECT path FROM entries WHERE kind = 'file'").all() as { path: string }[]).map((r) => r.path.slice(1));
    return { integrity, files };
  } finally {
    db.close();
  }
}

async function runC1(s: Scenario): Promise<void> {
  const seed = Number(process.env['NETFS_C1_SEED'] ?? Date.now() % 100_000);
  console.log(`C1 ${s.name}: seed ${seed} (NETFS_C1_SEED=${seed} replays it)`);
  const random = seededRandom(seed);
  const t0 = Date.now();
  const a = await account({ server: s.server, work: temp.path, davRoot: s.proxy.url(s.server.url) });
  const cacheDir = (await openStateFolder(a.state)).cacheDir;
  const volume = (await openStateFolder(a.state)).account.id;
  const v = new Versions();
  const localEdit = async (p: string, body: string | Buffer): Promise<void> => {
    await a.localWrite(p, body);
    v.add(p, sha(body), 'local');
  };
  const serverEdit = async (p: string, body: string | Buffer): Promise<void> => {
    await a.serverWrite(p, body, 5_000);
    v.add(p, sha(body), 'remote');
  };
  // 300 files: 148 small + 2 big on the server, 150 small in the sync folder.
  for (let i = 0; i < 148; i++) await serverEdit(`down/d${i % 5}/g${i}.txt`, text(random, `remote g${i} v0`));
  for (let i = 0; i < 2; i++) await serverEdit(`down/big/b${i}.bin`, bigFile(i));
  for (let i = 0; i < 150; i++) await localEdit(`up/u${i % 5}/f${i}.txt`, text(random, `local f${i} v0`));
  let bigVersion = 2;
  let created = 0;

  const seen = (from: number): number => s.proxy.requests.filter((r) => r.index >= from && r.path.includes(`/${a.id}/`)).length;
  // A big file's download that could resume: the cache holds part of it, not all.
  const bigPartlyHeld = (): boolean => {
    try {
      return readCacheObjects(cacheDir, volume).some((o) => o.key.startsWith('/down/big/') && o.extents.length > 0 && o.extents.reduce((n, [b, e]) => n + e - b, 0) < o.objectSize);
    } catch {
      return false; // the engine is creating the index right now
    }
  };

  const runs: { start: number; end: number; killed: boolean; held: Map<string, [number, number][]>; edited: Set<string> }[] = [];
  const outcomes: string[] = [];
  let kills = 0;
  // 4 MiB/s down: the engine's reads become 1 MiB GETs (4 at a time), so a 6 MiB download has
  // a stretch where the cache holds its first part and the rest is on the wire.
  expect((await a.run('config', 'set', 'bandwidthDownBytesPerSec', String(4 << 20))).code).toBe(0);
  expect((await a.run('config', 'set', 'backoffBaseMs', '100')).code).toBe(0);
  s.proxy.setThrottle(16 << 20);
  try {
    for (let round = 1; kills < s.kills && round <= s.kills * 2; round++) {
      // Server edits between runs: a few small files, now and then a big one.
      const edited = new Set<string>();
      if (round > 1) {
        for (let i = 0; i < 3; i++) {
          const p = `down/d${Math.floor(random() * 5)}/g${Math.floor(random() * 148)}.txt`;
          await serverEdit(p, text(random, `remote ${p} round ${round}`));
          edited.add(`/${p}`);
        }
        if (round % 6 === 0) {
          const p = `down/big/b${Math.floor(random() * 2)}.bin`;
          await serverEdit(p, bigFile(bigVersion++));
          edited.add(`/${p}`);
        }
      }
      const from = s.proxy.requests.length;
      // Now and then, kill while a big download could resume (rounds that have one to do).
      const big = random() < (round <= 2 || round % 6 === 0 ? 0.7 : 0.1);
      const killAfter = 1 + Math.floor(random() * (round <= 3 ? 150 : 40));
      const start = Date.now();
      const child = spawnSync(a.state);
      let err = '';
      child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
      const exited = once(child, 'exit');
      let done = false;
      void exited.then(() => (done = true));
      // The writer: edits and new files in the sync folder while the engine runs.
      const writer = (async () => {
        while (!done) {
          if (random() < 0.3) await localEdit(`up/new/n${created++}.txt`, text(random, `local new ${created} round ${round}`));
          else {
            const i = Math.floor(random() * 150);
            await localEdit(`up/u${i % 5}/f${i}.txt`, text(random, `local f${i} round ${round} at ${Date.now()}`));
          }
          await sleep(20 + Math.floor(random() * 100));
        }
      })();
      while (!done && !(big ? bigPartlyHeld() : seen(from) >= killAfter)) await sleep(big ? 10 : 2);
      if (!done) {
        child.kill('SIGKILL');
        kills++;
      }
      const [code, signal] = (await exited) as [number | null, string | null];
      await writer;
      const killed = signal === 'SIGKILL';
      outcomes.push(killed ? (big ? 'killed with a big file partly cached' : `killed after request ${killAfter}`) : `exit ${code}`);
      if (!killed) expect([0, 5], `${s.name} round ${round} (seed ${seed}): ${err}`).toContain(code);
      const held = new Map<string, [number, number][]>();
      if (killed) {
        // Right after a kill: nothing partial or foreign under a final name on either side, the
        // journal intact; note what the cache holds (the next run must not fetch it again).
        const odd = [...(await strangers(a.local, v)).map((p) => `local ${p}`), ...(await strangers(a.remoteDir, v)).map((p) => `server ${p}`)];
        expect(odd, `${s.name} after kill ${kills}: ${odd.join(', ')} (seed ${seed})`).toEqual([]);
        expect(journalCheck(a.state).integrity).toBe('ok');
        // Only downloads still to place: a file placed just before the kill (its row not yet
        // dropped, its journal row not yet written) is compared next time, not resumed.
        // And only objects of the server's current version (size and date as the listing gave them).
        const versions = cacheVersions(cacheDir);
        for (const o of readCacheObjects(cacheDir, volume)) {
          const want = v.lastRemote.get(o.key.slice(1));
          if (o.extents.length === 0 || want === undefined) continue;
          const have = await readFile(join(a.local, o.key)).then(sha, () => null);
          const server = await stat(join(a.remoteDir, o.key));
          const cached = versions.get(o.key);
          const current = cached !== undefined && cached.size === server.size && Math.abs(cached.lastModified - server.mtimeMs) < 1000;
          if (have !== want && current) held.set(o.key, o.extents);
        }
      }
      runs.push({ start, end: Date.now(), killed, held, edited });
    }
  } finally {
    s.proxy.setThrottle(null);
  }
  console.log(`C1 ${s.name} seed ${seed}: ${kills} kills in ${runs.length} runs: ${outcomes.join('; ')}`);
  expect(kills, `seed ${seed}`).toBe(s.kills);

  // The final clean pass: the common oracle.
  expect((await a.run('config', 'set', 'bandwidthDownBytesPerSec', '0')).code).toBe(0);
  const tFinal = Date.now();
  const finalFrom = s.proxy.requests.length;
  const r = await syncOnce(a.state);
  const byMethod = new Map<string, number>();
  for (const q of s.proxy.requests.slice(finalFrom)) byMethod.set(q.method, (byMethod.get(q.method) ?? 0) + 1);
  console.log(`C1 ${s.name}: final pass ${((Date.now() - tFinal) / 1000).toFixed(1)} s, ${[...byMethod].map(([m, n]) => `${m} ${n}`).join(', ')}`);
  // rclone serve webdav now and then stops answering in one folder for over 30 s (seen 2 times in
  // 5 runs, after kills; Apache never): the engine times out, the item fails as TRANSIENT (exit
  // 5), and the next pass finishes the job. Only that is given another pass, at most two more.
  let final = r;
  for (let extra = 0; extra < 2 && final.code === 5 && final.stderr.split('\n').every((l) => l === '' || / TRANSIENT: .*no answer within/.test(l)); extra++) {
    const slow = s.proxy.requests.filter((q) => q.index >= finalFrom && q.path.includes(`/${a.id}/`) && (q.endTime ?? Date.now()) - q.time > 20_000);
    console.log(`C1 ${s.name} seed ${seed}: clean pass ${extra + 1} timed out (${final.stderr.trim()}); requests over 20 s: ${slow.map((q) => `${q.method} ${q.path} ${q.outcome}`).join(', ')}; one more pass`);
    await sleep(150); // the item's backoff (100 ms here)
    final = await syncOnce(a.state);
  }
  expect(final.code, `${final.stderr} (seed ${seed})`).toBe(0);
  const local = await manifest(a.local);
  // (a) both sides byte-identical.
  expect(entriesOf(local)).toEqual(entriesOf(await manifest(a.remoteDir)));
  // (b) every last version present: server edits under their name; local edits under their
  // name or as a conflict copy of it. Copies only of up/ paths, each one of the writer's versions.
  for (const [p, h] of v.lastRemote) if (!v.lastLocal.has(p)) expect(local.get(p), `${p} (seed ${seed})`).toBe(h);
  const copies = [...local.keys()].filter((p) => COPY.test(p));
  for (const [p, h] of v.lastLocal) {
    const found = [p, ...copies.filter((c) => ownerOf(c) === p)].filter((q) => local.get(q) === h);
    expect(found, `${p}: last local edit missing (seed ${seed})`).not.toEqual([]);
  }
  // A copy of a down/ path (only the server changed it) comes from a kill between placing a
  // download and recording it, followed by another server edit: the journal never learnt that
  // the local file was the server's, so both sides look changed. Allowed, but it must hold one
  // of the server's own versions (nothing foreign, nothing lost), and it is counted.
  const spurious: string[] = [];
  for (const c of copies) {
    const hash = local.get(c) ?? '';
    if (ownerOf(c).startsWith('up/')) expect(v.known(c, hash), `${c}: not a version the writer wrote (seed ${seed})`).toBe(true);
    else {
      expect(v.server.get(ownerOf(c))?.has(hash), `${c}: a copy of a server-only path holding no server version (seed ${seed})`).toBe(true);
      spurious.push(c);
    }
  }
  if (spurious.length > 0) console.log(`C1 ${s.name} seed ${seed}: conflict copies of server-only paths (download placed, record lost at a kill, server edited again): ${spurious.join(', ')}`);
  expect(local.size).toBe(new Set([...v.lastLocal.keys(), ...v.lastRemote.keys()]).size + copies.length);
  // (c) nothing left behind.
  expect(await leftovers(a.local)).toEqual([]);
  expect(await leftovers(a.remoteDir)).toEqual([]);
  expect((await allPaths(a.remoteDir)).filter((p) => TEMP.test(p))).toEqual([]);
  expect(await stagingLeftovers(a.state)).toEqual([]);
  expect(await exists(join(a.state, 'engine.lock'))).toBe(false);
  // (d) the journal intact and matching the disk.
  const j = journalCheck(a.state);
  expect(j.integrity).toBe('ok');
  expect(j.files.sort()).toEqual([...local.keys()].sort());
  // (e) idle: a second pass moves nothing.
  const before = s.proxy.requests.length;
  expect((await syncOnce(a.state)).code).toBe(0);
  console.log(`C1 ${s.name}: final pass and idle check ${((Date.now() - tFinal) / 1000).toFixed(1)} s`);
  expect(s.proxy.requests.slice(before).filter((q) => q.method !== 'PROPFIND' && q.path.includes(`/${a.id}/`))).toEqual([]);

  // Resume: no GET of the run after a kill asked for bytes the cache held at that kill (unless
  // the server's version changed in between), and at least one download did resume.
  const gets = await s.gets(a);
  let resumed = 0;
  for (let i = 0; i + 1 < runs.length; i++) {
    const { held } = runs[i] ?? { held: new Map<string, [number, number][]>() };
    const next = runs[i + 1];
    if (next === undefined) continue;
    for (const g of gets.filter((x) => x.timeMs >= next.start && x.timeMs <= next.end)) {
      const extents = held.get(g.path);
      if (extents === undefined || next.edited.has(g.path)) continue;
      const overlap = extents.filter(([b, e]) => g.start < e && b < g.end);
      expect(overlap, `${s.name}: run ${i + 2} fetched ${g.path} ${g.start}-${g.end} again, held by the cache after kill (seed ${seed})`).toEqual([]);
      if (g.start > 0) resumed++;
    }
  }
  console.log(`C1 ${s.name} seed ${seed}: ${resumed} GET(s) resumed past bytes the cache held; ${gets.length} GETs in all; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  expect(resumed, `no download resumed after a kill (seed ${seed})`).toBeGreaterThan(0);
}

describe('C1: SIGKILL at random points of a two-way sync while local edits continue', () => {
  it('C1: Apache, 300 files, 50 seeded kill points with a writer editing the sync folder: after each kill nothing partial, journal ok; a clean pass gives the common oracle; downloads resume', async () => {
    await runC1({
      name: 'apache',
      server: apache,
      proxy: apacheProxy,
      kills: 50,
      gets: async (a) => {
        const log = await apache.waitForAccessLog(() => true);
        return log
          .filter((e) => e.method === 'GET')
          .flatMap((e) => {
            const path = accountPath(a, e.target);
            if (path === null) return [];
            const [start, end] = parseRange(e.range, Number.MAX_SAFE_INTEGER);
            return [{ timeMs: e.timeMs, path, start, end }];
          });
      },
    });
  }, 240_000);

  it('C1: rclone serve webdav, 300 files, 20 seeded kill points with a writer editing the sync folder: same oracle', async () => {
    await runC1({
      name: 'rclone',
      server: rclone,
      proxy: rcloneProxy,
      kills: 20,
      gets: (a) =>
        Promise.resolve(
          rcloneProxy.requests
            .filter((q) => q.method === 'GET')
            .flatMap((q) => {
              const path = accountPath(a, q.path);
              if (path === null) return [];
              const [start, end] = parseRange(q.headers['range'] ?? null, Number.MAX_SAFE_INTEGER);
              return [{ timeMs: q.time, path, start, end }];
            }),
        ),
    });
  }, 480_000); // rclone serve sometimes stops answering a folder for 30 s (header); up to two extra clean passes wait it out
});

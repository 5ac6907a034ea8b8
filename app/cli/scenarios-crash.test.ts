// Crash and stop scenarios with real `netfs-sync` child processes against a real Apache
// (test-scenarios.md §6.5): SIGKILL at seeded random points of a 200-file two-way sync while
// edits keep coming between runs (C2: kills between "bytes written" and "placed"; C3: kills
// mid-PUT and after the body before the answer, whatever a random point hits), and SIGTERM
// every 2 s during a sync (C7). The proxy only counts requests (and slows bodies a little), so
// a kill point is "after the child's k-th request", the same on a fast CI machine and a slow one.
//
//   round i: edits on both sides -> spawn `sync --once` -> wait for request k_i -> SIGKILL
//   end:     one clean `sync --once` -> exit 0, trees equal, every last edit present,
//            no conflict copy (nothing changed on both sides), no leftovers, journal ok
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, startApache, startFaultProxy, type ApacheServer, type FaultProxy } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf, exists, leftovers, manifest, sleep, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';
import { spawnCli } from './testing.js';

let apache: ApacheServer;
let proxy: FaultProxy;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  proxy = await startFaultProxy({ target: apache.origin });
  temp = await makeTempDir('netfs-scen-crash-');
});
afterAll(async () => {
  await proxy.close();
  await apache.stop();
  await temp.remove();
});

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/** Requests the proxy saw for this account since index `from`. */
function seen(a: ScenarioAccount, from: number): number {
  return proxy.requests.filter((r) => r.index >= from && r.path.includes(`/${a.id}/`)).length;
}

interface Edits {
  /** Last content written per path, by side. */
  local: Map<string, string>;
  remote: Map<string, string>;
  /** In how many rounds each local path was edited. */
  rounds: Map<string, number>;
}

function content(random: () => number, tag: string): string {
  // 1 KiB to ~150 KiB: several ranged GETs or a long PUT body for the bigger ones.
  const repeat = 1 + Math.floor(random() * random() * 6000);
  return `${tag}\n${'0123456789abcdefghijklmnopqrstu\n'.repeat(repeat)}`;
}

async function editBothSides(a: ScenarioAccount, random: () => number, round: number, edits: Edits, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    // Local edits live under up/, remote ones under down/: no path is ever changed on both
    // sides, so any conflict copy would be a wrong one (C3: a lost answer is no conflict).
    const upPath = `up/u${Math.floor(random() * 4)}/f${Math.floor(random() * 60)}.txt`;
    const text = content(random, `local ${upPath} round ${round} edit ${i}`);
    await a.localWrite(upPath, text);
    if (edits.local.get(upPath)?.includes(` round ${round} `) !== true) edits.rounds.set(upPath, (edits.rounds.get(upPath) ?? 0) + 1);
    edits.local.set(upPath, text);
    const downPath = `down/d${Math.floor(random() * 4)}/g${Math.floor(random() * 60)}.txt`;
    const theirs = content(random, `remote ${downPath} round ${round} edit ${i}`);
    await a.serverWrite(downPath, theirs, 5_000 + round * 10 + i);
    edits.remote.set(downPath, theirs);
  }
}

describe('C2, C3: SIGKILL at random points of a two-way sync', () => {
  it('C2/C3: 200 files, 10+ seeded kill points with edits between runs; one clean sync --once converges, every last edit present, no leftovers', async () => {
    const seed = Number(process.env['NETFS_CRASH_SEED'] ?? Date.now() % 100_000);
    console.log(`C2/C3 kill seed ${seed} (NETFS_CRASH_SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    const a = await account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url) });
    const edits: Edits = { local: new Map(), remote: new Map(), rounds: new Map() };
    await editBothSides(a, random, 0, edits, 100); // ~200 files, both ways
    proxy.setThrottle(8 << 20); // bodies at 8 MiB/s: a full pass lasts long enough to be cut anywhere
    let kills = 0;
    const outcomes: string[] = [];
    try {
      for (let round = 1; kills < 10 && round <= 20; round++) {
        if (round > 1) await editBothSides(a, random, round, edits, 10);
        const from = proxy.requests.length;
        // The first run has ~400 requests to make, later ones (10 edits a side) a few dozen.
        const killAfter = 1 + Math.floor(random() * (round === 1 ? 300 : 30));
        const child = spawnCli(['sync', '--once', '--state', a.state]);
        let err = '';
        child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
        const exited = once(child, 'exit');
        let done = false;
        void exited.then(() => (done = true));
        while (!done && seen(a, from) < killAfter) await sleep(2);
        if (!done) {
          child.kill('SIGKILL');
          kills++;
        }
        const [code, signal] = (await exited) as [number | null, string | null];
        outcomes.push(signal === 'SIGKILL' ? `killed after request ${killAfter}` : `exit ${code}`);
        if (signal !== 'SIGKILL') expect([0, 5], `round ${round} (seed ${seed}): ${err}`).toContain(code);
      }
    } finally {
      proxy.setThrottle(null);
    }
    console.log(`C2/C3 seed ${seed}: ${outcomes.join('; ')}`);
    expect(kills).toBeGreaterThanOrEqual(10);

    // One clean run converges.
    const r = await a.proc('sync', '--once');
    expect(r.code, `${r.stderr} (seed ${seed})`).toBe(0);
    const local = await manifest(a.local);
    expect(entriesOf(local)).toEqual(entriesOf(await manifest(a.remoteDir)));
    // Every last version of every edit is there. Remote edits (down/) under their own name. A
    // local edit (up/) too, or as a conflict copy of its path when it was edited again after a
    // kill that lost the answer of its upload (the server then holds a version the journal never
    // saw: both sides changed). A lost answer alone is no conflict (C3): copies only where
    // a path was edited locally in more than one round.
    const copies = [...local.keys()].filter((p) => p.includes(' (conflicted copy '));
    const copiesOf = (p: string): string[] => copies.filter((c) => c.startsWith(`${p.replace(/\.txt$/, '')} (conflicted copy `));
    for (const [p, text] of edits.remote) expect(local.get(p), `${p} (seed ${seed})`).toBe(sha(text));
    for (const [p, text] of edits.local) {
      const found = [p, ...copiesOf(p)].filter((q) => local.get(q) === sha(text));
      expect(found, `${p}: last local edit missing (seed ${seed}); copies ${copiesOf(p).join(', ')}`).not.toEqual([]);
    }
    for (const c of copies) {
      const owner = [...edits.local.keys()].find((p) => copiesOf(p).includes(c));
      expect(owner !== undefined && (edits.rounds.get(owner) ?? 0) > 1, `${c}: a conflict copy of a path edited once (seed ${seed})`).toBe(true);
    }
    expect(local.size).toBe(edits.local.size + edits.remote.size + copies.length);
    // Nothing left behind: no partial copies, no staged downloads, no upload temp files, no lock.
    expect(await leftovers(a.local)).toEqual([]);
    expect(await leftovers(a.remoteDir)).toEqual([]);
    expect(await stagingLeftovers(a.state)).toEqual([]);
    expect(await exists(join(a.state, 'engine.lock'))).toBe(false);
    const db = new Database(join(a.state, 'journal.sqlite'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const rows = db.prepare("SELECT path FROM entries WHERE kind = 'file'").all() as { path: string }[];
      expect(rows.map((x) => x.path.slice(1)).sort()).toEqual([...local.keys()].sort());
    } finally {
      db.close();
    }
    // And it stays converged: a second run moves nothing.
    const before = proxy.requests.length;
    expect((await a.proc('sync', '--once')).code).toBe(0);
    expect(proxy.requests.slice(before).filter((q) => q.method !== 'PROPFIND')).toEqual([]);
  }, 300_000);
});

describe('C7: SIGTERM during a sync', () => {
  it('C7: SIGTERM 2 s into each of 5 runs of `sync`: each stops within 30 s, exit 0, no lock left; a later run converges', async () => {
    const random = seededRandom(7);
    const a = await account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url) });
    const edits: Edits = { local: new Map(), remote: new Map(), rounds: new Map() };
    await editBothSides(a, random, 0, edits, 100);
    proxy.setThrottle(2 << 20); // ~15 MB both ways at 2 MiB/s: longer than the 5 rounds together
    const stops: number[] = [];
    try {
      for (let round = 1; round <= 5; round++) {
        if (round > 1) await editBothSides(a, random, round, edits, 3);
        const from = proxy.requests.length;
        const child = spawnCli(['sync', '--state', a.state]);
        let err = '';
        child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
        const exited = once(child, 'exit');
        const deadline = Date.now() + 30_000;
        while (seen(a, from) === 0 && Date.now() < deadline) await sleep(10);
        await sleep(2_000);
        const t0 = Date.now();
        child.kill('SIGTERM');
        const [code] = (await exited) as [number | null];
        stops.push(Date.now() - t0);
        expect(code, err).toBe(0);
        expect(await exists(join(a.state, 'engine.lock'))).toBe(false);
        expect(await leftovers(a.local)).toEqual([]);
      }
    } finally {
      proxy.setThrottle(null);
    }
    console.log(`C7 stop times (ms): ${stops.join(', ')}`);
    for (const ms of stops) expect(ms).toBeLessThan(30_000);
    const r = await a.proc('sync', '--once');
    expect(r.code, r.stderr).toBe(0);
    const local = await manifest(a.local);
    expect(entriesOf(local)).toEqual(entriesOf(await manifest(a.remoteDir)));
    for (const [p, text] of [...edits.local, ...edits.remote]) expect(local.get(p), p).toBe(sha(text));
    expect(await stagingLeftovers(a.state)).toEqual([]);
    expect(await exists(join(a.state, 'engine.lock'))).toBe(false);
  }, 200_000);
});

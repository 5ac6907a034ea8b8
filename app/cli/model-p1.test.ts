/**
 * P1 (test-scenarios.md §6.7, issue 5 item 10): model-based test of the whole sync with
 * `fc.commands`, on real Apache, real temp folders and the real engine.
 *
 *   commands (at most 25 a run)                         real system
 *   local  write/modify/append/delete/rename/mkdir ──>  files in the sync folder
 *   remote write/modify/append/delete/rename/mkdir ──>  files straight in Apache's data folder
 *   sync          ──>  `netfs-sync sync --once` in this process, through the fault proxy
 *   crash         ──>  a child `sync --once` killed with SIGKILL after its k-th request (1–8;
 *                      the child runs a plain-JS copy of app/, transpiled-app.ts: 0.5 s a start)
 *   fault         ──>  one fault-proxy rule at a time (or none): reset (1 request in 3 cut
 *                      before its answer), reset after the server applied it (C3), 500, 423, 507
 *
 *   final: no fault, `sync --once` until it exits 0, then the common oracle:
 *   (a) local tree = server tree (sha256 manifests, conflict copies included)
 *   (b) no version a user wrote is lost: each one is in the final tree (under a name it was
 *       given or a conflict copy of one), unless a user later overwrote, deleted or replaced
 *       the file holding it on either side (a legitimate supersede: edit beats delete follows)
 *   (c) no temp or partial files, no staged downloads, no lock
 *   (d) `PRAGMA integrity_check` = ok; the journal's files and folders are the ones on disk
 *   (e) idle: one more `sync --once` exits 0 and sends nothing but PROPFINDs; no failures kept
 *   and conflict copies only of paths changed on both sides since the last clean sync (or
 *   changed again after a sync that did not finish cleanly: an upload whose answer was lost).
 *
 * The model keeps per version who wrote it, the names it had and whether it was superseded,
 * and per path the sides changed since the last clean sync (exit 0). ENOSPC is left out (a
 * real one needs a tmpfs for the sync folder; enospc-sync.test.ts covers it).
 *
 * The model and the oracle are in model-kit.ts (shared with P3). Replay: the seed is printed;
 * NETFS_P1_SEED=<seed> NETFS_P1_PATH=<path> NETFS_P1_REPLAY=<replayPath> replays a failure
 * (fast-check prints all three with the shrunk command list); NETFS_P1_RUNS sets the run count.
 * 100 runs (about 12 commands each on average, 25 at most) take 2–3.5 minutes on 2 cores.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, startFaultProxy, type ApacheServer, type FaultProxy } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { transpileApp, type TranspiledApp } from '../testing/transpiled-app.js';
import { dropWorld, finalSyncAndOracle, Model, ModelCommand, userCommandArbs, type World } from './model-kit.js';
import { account, exists, sleep } from './scenario-kit.js';

let apache: ApacheServer;
let proxy: FaultProxy;
let temp: TempDir;
let app: TranspiledApp;

beforeAll(async () => {
  [apache, temp, app] = await Promise.all([startApache(), makeTempDir('netfs-p1-'), transpileApp()]);
  proxy = await startFaultProxy({ target: apache.origin });
}, 120_000);
afterAll(async () => {
  await proxy?.close();
  await apache?.stop();
  await temp?.remove();
  await app?.remove();
});

type FaultKind = 'none' | 'reset' | 'reset-after' | '500' | '423' | '507';

/** What a run saw, for the summary line. */
const seen = { syncs: new Map<number, number>(), kills: 0, childExits: 0, faults: 0, copies: 0, finalPasses: 0, live: 0 };

interface P1World extends World {
  fault: FaultKind;
}

/** Requests for this account the proxy saw since `from`. */
function accountRequests(w: World, from: number): number {
  return proxy.requests.filter((q) => q.index >= from && q.path.includes(`/${w.a.id}/`)).length;
}

/** Until the proxy has nothing pending for this account (a killed client's PUT may still be finishing in Apache). */
async function settle(w: World): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && proxy.requests.some((q) => q.outcome === 'pending' && q.path.includes(`/${w.a.id}/`))) await sleep(5);
  await sleep(20);
}

function setFault(w: P1World, kind: FaultKind): void {
  proxy.clearRules();
  w.fault = kind;
  switch (kind) {
    case 'none':
      return;
    case 'reset':
      // Every third request cut before its answer, listings included.
      proxy.addRule({ match: { every: 3 }, action: { kind: 'reset', at: 'before-headers' } });
      return;
    case 'reset-after':
      // The operation happens on the server, the answer is lost (C3's case).
      proxy.addRule({ match: { method: ['PUT', 'DELETE', 'MOVE', 'MKCOL'], every: 2 }, action: { kind: 'reset', at: 'before-headers', forward: true } });
      return;
    case '500':
      proxy.addRule({ match: { method: ['GET', 'PUT', 'DELETE', 'MOVE', 'MKCOL'], every: 2 }, action: { kind: 'status', status: 500 } });
      return;
    case '423':
      proxy.addRule({ match: { method: ['PUT', 'DELETE', 'MOVE'] }, action: { kind: 'status', status: 423 } });
      return;
    case '507':
      proxy.addRule({ match: { method: 'PUT' }, action: { kind: 'status', status: 507 } });
      return;
  }
}

/** One `sync --once` in this process. Without a fault: in sync (0), a held plan (4) or items still in backoff (5), never a failure. */
async function runSync(m: Model, w: P1World, extra: string[] = []): Promise<number> {
  const token = m.started();
  const res = await w.a.run('sync', '--once', ...extra);
  seen.syncs.set(res.code, (seen.syncs.get(res.code) ?? 0) + 1);
  if (w.fault === 'none') expect([0, 4, 5], `sync --once without a fault: ${res.stderr}\n${m.log.join('\n')}`).toContain(res.code);
  else expect([0, 1, 3, 4, 5], `sync --once under ${w.fault}: ${res.stderr}\n${m.log.join('\n')}`).toContain(res.code);
  m.ended(token, res.code === 0);
  if (res.code !== 0) m.log.push(`  (sync --once${extra.map((x) => ` ${x}`).join('')}: exit ${res.code}: ${res.stderr.trim().replace(/\n/g, ' | ')})`);
  return res.code;
}

/** A child `sync --once` (plain JavaScript copy of app/), SIGKILLed once it made `killAfter` requests. */
async function crashSync(m: Model, w: P1World, killAfter: number): Promise<string> {
  const token = m.started();
  const from = proxy.requests.length;
  const child = spawn(process.execPath, [app.cliEntry, 'sync', '--once', '--state', w.a.state], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const exited = once(child, 'exit');
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + 20_000;
  while (!done && accountRequests(w, from) < killAfter && Date.now() < deadline) await sleep(1);
  if (!done) child.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, string | null];
  await settle(w);
  m.ended(token, code === 0);
  if (signal === 'SIGKILL') seen.kills++;
  else {
    seen.childExits++;
    if (w.fault === 'none') expect([0, 4, 5], `child sync --once: ${err}\n${m.log.join('\n')}`).toContain(code);
  }
  return signal === 'SIGKILL' ? `killed after request ${killAfter}` : `exited ${code} first`;
}

// ─── commands (besides the user's, from model-kit) ────────────────────────────────────────
class SyncCmd extends ModelCommand<P1World> {
  async exec(m: Model, w: P1World): Promise<string> {
    return `exit ${await runSync(m, w)}`;
  }
  toString(): string {
    return 'sync';
  }
}

class CrashCmd extends ModelCommand<P1World> {
  constructor(readonly killAfter: number) {
    super();
  }
  exec(m: Model, w: P1World): Promise<string> {
    return crashSync(m, w, this.killAfter);
  }
  toString(): string {
    return `crash after request ${this.killAfter}`;
  }
}

class FaultCmd extends ModelCommand<P1World> {
  constructor(readonly kind: FaultKind) {
    super();
  }
  exec(_m: Model, w: P1World): Promise<string> {
    setFault(w, this.kind);
    if (this.kind !== 'none') seen.faults++;
    return Promise.resolve('set');
  }
  toString(): string {
    return `fault ${this.kind}`;
  }
}

const commandArbs: fc.Arbitrary<fc.AsyncCommand<Model, P1World>>[] = [
  ...userCommandArbs(),
  fc.constant(new SyncCmd()),
  fc.constant(new SyncCmd()),
  fc.integer({ min: 1, max: 8 }).map((k) => new CrashCmd(k)),
  fc.constantFrom<FaultKind>('none', 'reset', 'reset-after', '500', '423', '507').map((k) => new FaultCmd(k)),
];

describe('P1: model-based two-way sync against real Apache', () => {
  it('P1 (shrunk case, F9): a new local file whose upload got 423, deleted before the retry: the next pass clears its failure and exits 0, not 5 forever', async () => {
    proxy.clearRules();
    const a = await account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url) });
    const w: P1World = { a, server: apache, serverClock: Date.now() - 3_600_000, fault: 'none' };
    try {
      await a.localWrite('d3/c.txt', 'local#1');
      setFault(w, '423');
      const locked = await a.run('sync', '--once');
      expect(locked.code, locked.stderr).toBe(5);
      expect(locked.stderr).toContain('/d3/c.txt: LOCKED');
      setFault(w, 'none');
      await rm(join(a.local, 'd3/c.txt'));
      const r = await a.run('sync', '--once');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(await exists(join(a.remoteDir, 'd3/c.txt'))).toBe(false);
    } finally {
      setFault(w, 'none');
      await dropWorld(w);
    }
  });


  it('P1: 100 runs of at most 25 commands (local and remote edits, sync, SIGKILL + restart, reset/500/423/507 faults); after a final fault-free sync the common oracle (a)-(e) holds, conflict copies only where both sides changed, edit beats delete, no version lost', async () => {
    const seed = Number(process.env['NETFS_P1_SEED'] ?? Date.now() % 1_000_000_007);
    const path = process.env['NETFS_P1_PATH'];
    const replayPath = process.env['NETFS_P1_REPLAY'];
    const numRuns = Number(process.env['NETFS_P1_RUNS'] ?? 100);
    console.log(`P1 seed ${seed} (NETFS_P1_SEED=${seed} replays it; a failure also prints path and replayPath)`);
    const t0 = Date.now();
    let runs = 0;
    let commands = 0;
    const cmdsArb = fc.commands(commandArbs, { maxCommands: 25, size: 'max', ...(replayPath === undefined ? {} : { replayPath }) });
    await fc.assert(
      fc.asyncProperty(cmdsArb, async (cmds) => {
        runs++;
        proxy.clearRules();
        const a = await account({ server: apache, work: temp.path, davRoot: proxy.url(apache.url) });
        const cfg = await a.run('config', 'set', 'backoffBaseMs', '100');
        expect(cfg.code, cfg.stderr).toBe(0);
        const m = new Model();
        const w: P1World = { a, server: apache, serverClock: Date.now() - 3_600_000, fault: 'none' };
        try {
          await fc.asyncModelRun(() => ({ model: m, real: w }), cmds);
          commands += m.log.length;
          setFault(w, 'none');
          const report = await finalSyncAndOracle(m, w, {
            sync: (extra) => runSync(m, w, extra),
            moved: async (during) => {
              const from = proxy.requests.length;
              await during();
              return proxy.requests.slice(from).filter((q) => q.path.includes(`/${a.id}/`) && q.method !== 'PROPFIND').map((q) => `${q.method} ${q.path}`);
            },
          });
          seen.copies += report.conflictCopies;
          seen.finalPasses = Math.max(seen.finalPasses, report.finalPasses);
          seen.live += report.liveVersions;
        } finally {
          setFault(w, 'none');
          await dropWorld(w);
        }
      }),
      { seed, numRuns, interruptAfterTimeLimit: 600_000, markInterruptAsFailure: true, ...(path === undefined ? {} : { path }) },
    );
    const syncs = [...seen.syncs].map(([c, n]) => `exit ${c}: ${n}`).join(', ');
    console.log(
      `P1 seed ${seed}: ${runs} runs, ${commands} commands in ${((Date.now() - t0) / 1000).toFixed(1)} s; in-process syncs ${syncs}; ` +
        `${seen.kills} SIGKILLs (${seen.childExits} children ended first); ${seen.faults} faults set; ${seen.live} live versions checked; ` +
        `${seen.copies} conflict copies; at most ${seen.finalPasses} final passes`,
    );
  }, 900_000);
});

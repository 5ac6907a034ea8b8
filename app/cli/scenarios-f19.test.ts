// F19 end to end (test-scenarios.md §6.2): the i-th write of the journal fails (EIO from
// strace fault injection on the journal's own files) during a whole mixed `sync --once` against
// a real Apache: uploads, downloads, a local and a server delete, a conflict. Every run either
// completes or fails cleanly, and the next fault-free run reaches exactly the state of the
// fault-free reference run.
//
//   prepare: account, first sync, then changes on both sides -> snapshot (state, local, server)
//   reference: restore -> strace (count only) sync --once -> exit 0; K = journal writes seen
//   N in a spread of 1..K: restore -> strace inject=<syscall>:error=EIO:when=N sync --once
//        -> exit 0, or 1/5 with a message and no stack trace; nothing partial under a final name
//        -> plain sync --once -> exit 0; trees, journal rows, conflicts and trash = reference
//
// The snapshot is restored with `cp -a` (mtimes kept, so Apache's "MTime Size" ETags are the
// same and the pass plans the same actions). Conflict copy names carry the local time: compared
// with the time part masked.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { transpileApp, type TranspiledApp } from '../testing/transpiled-app.js';
import { account, allPaths, entriesOf, manifest, type ScenarioAccount } from './scenario-kit.js';

const run = promisify(execFile);

let apache: ApacheServer;
let temp: TempDir;
let app: TranspiledApp;

beforeAll(async () => {
  [apache, temp, app] = await Promise.all([startApache(), makeTempDir('netfs-scen-f19-'), transpileApp()]);
});
afterAll(async () => {
  await apache?.stop();
  await temp?.remove();
  await app?.remove();
});

/** A conflict copy's name without its time: `a (conflicted copy 2026-11-25 143012).txt` -> `a (conflicted copy T).txt`. */
const masked = (p: string): string => p.replace(/ \(conflicted copy \d{4}-\d\d-\d\d \d{6}( \d+)?\)/, ' (conflicted copy T)');
const TEMP = /(^|\/)(\.netfs-partial-|\.netfs-upload-|\.davfs\.tmp)/;

interface Outcome {
  code: number;
  stderr: string;
  straceLog: string;
}

/** `netfs-sync sync --once` under strace, tracing (and with `inject`, failing) the journal's writes. */
async function tracedSync(a: ScenarioAccount, log: string, inject: string | null): Promise<Outcome> {
  const journal = join(a.state, 'journal.sqlite');
  const files = [journal, `${journal}-wal`, `${journal}-shm`].flatMap((f) => ['-P', f]);
  const args = ['-f', '-qq', '-o', log, ...files, '-e', `trace=${SYSCALLS}`, ...(inject === null ? [] : ['-e', `inject=${inject}`])];
  const child = spawn('strace', [...args, process.execPath, app.cliEntry, 'sync', '--once', '--state', a.state], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal === null ? -1 : -2))));
  return { code, stderr, straceLog: await readFile(log, 'utf8').catch(() => '') };
}

/** `netfs-sync sync --once` with no strace. */
async function plainSync(a: ScenarioAccount): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, [app.cliEntry, 'sync', '--once', '--state', a.state], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  return { code, stderr };
}

/** The writes SQLite makes to the journal, the WAL and the shared-memory index, and their syncs. */
const SYSCALLS = 'pwrite64,write,pwritev,fdatasync,fsync,ftruncate';

interface State {
  local: [string, string][];
  server: [string, string][];
  entries: unknown[];
  conflicts: unknown[];
  trash: unknown[];
  failures: unknown[];
}

async function stateOf(a: ScenarioAccount): Promise<State> {
  const norm = (m: Map<string, string>): [string, string][] => entriesOf(new Map([...m].map(([p, h]) => [masked(p), h])));
  const db = new Database(join(a.state, 'journal.sqlite'), { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    // Inodes and server dates of what this run uploaded differ from run to run; the rest must not.
    const entries = (db.prepare('SELECT path, kind, etag IS NULL AS noEtag, remote_size, local_size, placement FROM entries ORDER BY path').all() as { path: string }[]).map((r) => ({ ...r, path: masked(r.path) }));
    const conflicts = (db.prepare('SELECT path, copy_path, our_size FROM conflicts ORDER BY path').all() as { copy_path: string }[]).map((r) => ({ ...r, copy_path: masked(r.copy_path) }));
    const trash = db.prepare('SELECT original_path, kind, size FROM trash ORDER BY original_path').all();
    const failures = db.prepare('SELECT path, code FROM failures ORDER BY path').all();
    return { local: norm(await manifest(a.local)), server: norm(await manifest(a.remoteDir)), entries, conflicts, trash, failures };
  } finally {
    db.close();
  }
}

/** Every file under a final name holds a version the test knows (before or after the sync): nothing partial. */
async function partials(dir: string, known: Set<string>): Promise<string[]> {
  const out: string[] = [];
  for (const [p, h] of await manifest(dir, (rel) => TEMP.test(rel))) if (!known.has(h)) out.push(p);
  return out;
}

/** N values spread over 1..k: all of them when k <= max, else max of them, both ends included. */
function spread(k: number, max: number): number[] {
  if (k <= max) return Array.from({ length: k }, (_, i) => i + 1);
  return [...new Set(Array.from({ length: max }, (_, i) => 1 + Math.round((i * (k - 1)) / (max - 1))))];
}

describe('F19: a journal write fails during a whole mixed sync', () => {
  it('F19: EIO on the N-th journal write (pwrite64 on journal, WAL, shm; N spread over the whole run): each run completes or fails cleanly; the next clean run reaches the reference state', async () => {
    const a = await account({
      server: apache,
      work: temp.path,
      files: { 'keep.txt': 'keep', 'r-edit.txt': 'server v1', 'conf.txt': 'base', 'gone-here.txt': 'local delete', 'gone-there.txt': 'server delete', 'l-edit.txt': 'local v1' },
    });
    expect((await a.run('config', 'set', 'backoffBaseMs', '100')).code).toBe(0);
    expect((await a.run('sync', '--once')).code).toBe(0);
    // The mixed changes: 3 uploads (2 new, 1 edit), 3 downloads (2 new, 1 edit), a delete each
    // way, and a conflict (both sides changed, different sizes).
    await a.localWrite('up/n1.txt', 'new local 1', 60_000);
    await a.localWrite('up/n2.txt', 'new local 2 '.repeat(5000), 60_000);
    await a.localWrite('l-edit.txt', 'local v2, longer', 60_000);
    await a.localWrite('conf.txt', 'ours: edited here', 60_000);
    await a.serverWrite('down/m1.txt', 'new remote 1');
    await a.serverWrite('down/m2.txt', 'new remote 2 '.repeat(5000));
    await a.serverWrite('r-edit.txt', 'server v2, longer');
    await a.serverWrite('conf.txt', 'theirs: edited there, longer');
    await run('rm', [join(a.local, 'gone-here.txt'), join(a.remoteDir, 'gone-there.txt')]);
    const snap = join(temp.path, 'snap');
    await run('mkdir', ['-p', snap]);
    await run('cp', ['-a', a.state, join(snap, 'state')]);
    await run('cp', ['-a', a.local, join(snap, 'local')]);
    await run('cp', ['-a', a.remoteDir, join(snap, 'server')]);
    const restore = async (): Promise<void> => {
      await run('rm', ['-rf', a.state, a.local, a.remoteDir]);
      await run('cp', ['-a', join(snap, 'state'), a.state]);
      await run('cp', ['-a', join(snap, 'local'), a.local]);
      await run('cp', ['-a', join(snap, 'server'), a.remoteDir]);
    };
    const known = new Set([...(await manifest(a.local)).values(), ...(await manifest(a.remoteDir)).values()]);

    // The fault-free reference, traced the same way.
    const ref = await tracedSync(a, join(temp.path, 'ref.strace'), null);
    expect(ref.code, ref.stderr).toBe(0);
    const reference = await stateOf(a);
    for (const h of [...(await manifest(a.local)).values()]) known.add(h);
    expect(reference.local).toEqual(reference.server);
    expect(reference.conflicts).toHaveLength(1);
    expect(reference.trash).toHaveLength(1);
    expect(reference.failures).toEqual([]);
    const calls = ref.straceLog.split('\n').filter((l) => /^\d+\s+\w+\(/.test(l));
    const count = (name: string): number => calls.filter((l) => new RegExp(`^\\d+\\s+${name}\\(`).test(l)).length;
    const k = count('pwrite64');
    console.log(`F19 reference run: ${calls.length} journal syscalls: pwrite64 ${k}, write ${count('write')}, pwritev ${count('pwritev')}, fdatasync ${count('fdatasync')}, fsync ${count('fsync')}, ftruncate ${count('ftruncate')}`);
    expect(k).toBeGreaterThan(5);

    // pwrite64 at N over the whole run, then the fsyncs SQLite asks for (FULL commits, WAL
    // checkpoints) and its ftruncates of the WAL (fdatasync: SQLite on Linux uses fsync).
    const cases = [
      ...spread(k, 15).map((n) => `pwrite64:error=EIO:when=${n}`),
      ...spread(count('fsync'), 5).map((n) => `fsync:error=EIO:when=${n}`),
      ...spread(count('ftruncate'), 2).map((n) => `ftruncate:error=EIO:when=${n}`),
    ];
    console.log(`F19 cases (${cases.length}): ${cases.join(' ')}`);
    const outcomes: string[] = [];
    for (const inject of cases) {
      await restore();
      const r = await tracedSync(a, join(temp.path, 'fault.strace'), inject);
      outcomes.push(`${inject.replace(/:error=EIO:when=/, '@')} -> ${r.code}`);
      expect(r.straceLog, `${inject}: the fault was not hit`).toMatch(/EIO \(Input\/output error\) \(INJECTED\)/);
      expect([0, 1, 5], `${inject}: ${r.stderr}`).toContain(r.code);
      if (r.code !== 0) expect(r.stderr, inject).toMatch(/^netfs-sync: .+/m);
      expect(r.stderr, `${inject}: a stack trace`).not.toMatch(/^\s+at .+[(:]\d+/m);
      expect(await partials(a.local, known), `${inject}: local`).toEqual([]);
      expect(await partials(a.remoteDir, known), `${inject}: server`).toEqual([]);
      // An item that failed waits its backoff (100 ms here).
      await new Promise((resolve) => setTimeout(resolve, 150));
      const clean = await plainSync(a);
      expect(clean.code, `${inject}: the clean run after it: ${clean.stderr}`).toBe(0);
      expect(await stateOf(a), `${inject}: the clean run after it`).toEqual(reference);
      expect((await allPaths(a.remoteDir)).filter((p) => TEMP.test(p)), inject).toEqual([]);
    }
    console.log(`F19 outcomes: ${outcomes.join('; ')}`);
  }, 240_000);
});

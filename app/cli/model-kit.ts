/**
 * Test kit for the model-based sync tests P1 and P3 (test-scenarios.md §6.7): a model of what
 * users wrote, the user commands on both sides, and the common oracle after a final sync.
 *
 *   user command (local or remote side)          model
 *   write / append / delete / rename / mkdir ──> Version per content written (unique tag):
 *     on the real sync folder or straight          names it was given, superseded when a user
 *     into Apache's data folder                     later replaced or removed the file holding it
 *                                                 touches per path and side, numbered: which sides
 *                                                 changed since the last clean sync
 *   sync attempts: started() / ended(token, clean)
 *
 *   oracle: (a) trees equal  (b) every version not superseded present, under a name it had or
 *   a conflict copy of one  (c) no leftovers  (d) integrity_check, journal = disk  (e) idle;
 *   conflict copies only of paths changed on both sides since the last clean sync, or changed
 *   again after (or during) a sync that did not end cleanly (its answers may have been lost).
 */
import { createHash } from 'node:crypto';
import { appendFile, lstat, mkdir, readFile, rename, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { DavServer } from '../testing/index.js';
import { allPaths, exists, leftovers, manifest, sleep, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';

// The universe of names: collisions are likely, kinds never change (a file is never at d1).
export const FOLDERS = ['d1', 'd2', 'd3'] as const;
const NAMES = ['c.txt', 'd.txt'] as const;
export const FILES = ['a.txt', 'b.txt', ...FOLDERS.flatMap((f) => NAMES.map((n) => `${f}/${n}`))];
export type Side = 'local' | 'remote';

const COPY = / \(conflicted copy \d{4}-\d{2}-\d{2} \d{6}\)( \d+)?/;
export const isCopy = (p: string): boolean => COPY.test(p);
/** The path a conflict copy was made of: 'd1/c (conflicted copy …) 2.txt' -> 'd1/c.txt'. */
export const originalOf = (p: string): string => p.replace(COPY, '');

export interface Version {
  side: Side;
  /** The names users gave this content (a rename adds one). */
  paths: Set<string>;
  superseded: boolean;
  label: string;
}

export class Model {
  /** Content -> the version it is (every content written is unique). */
  readonly versions = new Map<string, Version>();
  /** Per side, the paths a user changed since the last clean sync, with the number of the last touch. */
  readonly touched: Record<Side, Map<string, number>> = { local: new Map(), remote: new Map() };
  /** Paths changed before or during a sync that did not end cleanly (since the last clean one). */
  readonly beforeUnclean = new Set<string>();
  /** Paths where a conflict copy is justified. */
  readonly conflictable = new Set<string>();
  readonly log: string[] = [];
  counter = 0;
  #seq = 0;

  touch(side: Side, path: string): void {
    this.touched[side].set(path, ++this.#seq);
    const other: Side = side === 'local' ? 'remote' : 'local';
    if (this.touched[other].has(path) || this.beforeUnclean.has(path)) this.conflictable.add(path);
  }

  /** A sync attempt starts: the token to give `ended`. */
  started(): number {
    return this.#seq;
  }

  /** A sync attempt that started at `token` ended; clean = exit 0 (both sides in sync as it saw them). */
  ended(token: number, clean: boolean): void {
    for (const side of ['local', 'remote'] as const) {
      for (const [p, seq] of this.touched[side]) {
        if (clean && seq <= token) this.touched[side].delete(p);
        else this.beforeUnclean.add(p);
      }
    }
    if (clean && this.touched.local.size === 0 && this.touched.remote.size === 0) this.beforeUnclean.clear();
  }
}

export interface World {
  a: ScenarioAccount;
  server: DavServer;
  /** Last mtime given to a server-side write (each one distinct: Apache's ETag holds it). */
  serverClock: number;
}

const rootOf = (w: World, side: Side): string => (side === 'local' ? w.a.local : w.a.remoteDir);

async function readIf(path: string): Promise<string | null> {
  try {
    const s = await lstat(path);
    return s.isFile() ? await readFile(path, 'utf8') : null;
  } catch {
    return null;
  }
}

async function isDir(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Files below `folder` of a side, read now, by path relative to the side's root. */
async function filesBelow(root: string, folder: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!(await isDir(join(root, folder)))) return out;
  for (const rel of await allPaths(join(root, folder))) {
    const text = await readIf(join(root, folder, rel));
    if (text !== null) out.set(`${folder}/${rel}`, text);
  }
  return out;
}

/** A user on `side` replaces or removes the file at `path`: the version it holds is superseded. */
async function supersede(m: Model, w: World, side: Side, path: string): Promise<void> {
  const text = await readIf(join(rootOf(w, side), path));
  if (text === null) return;
  const v = m.versions.get(text);
  if (v !== undefined) v.superseded = true;
}

/** After a server-side change: owned by Apache's user, a distinct mtime an hour back (strong ETag). */
async function serverTouched(w: World, abs: string): Promise<void> {
  await w.server.fixOwnership();
  w.serverClock = Math.max(w.serverClock + 1_000, Date.now() - 3_600_000);
  const t = new Date(w.serverClock);
  if (await exists(abs)) await utimes(abs, t, t);
}

/** Content of a new version: a unique tag, then filler; never the size of `previous` (a same-size edit in the same clock tick is invisible to any scanner). */
function makeContent(m: Model, side: Side, size: number, previous: string | null): string {
  const tag = `${side}#${++m.counter}`;
  let text = `${tag}\n${'0123456789abcdef'.repeat(Math.ceil(size / 16)).slice(0, size)}`;
  if (previous !== null && previous.length === text.length) text += '+';
  return text;
}

async function parentIsFile(root: string, path: string): Promise<boolean> {
  for (let p = dirname(path); p !== '.'; p = dirname(p)) if ((await readIf(join(root, p))) !== null) return true;
  return false;
}

export async function userWrite(m: Model, w: World, side: Side, path: string, mode: 'write' | 'append', size: number): Promise<string> {
  const root = rootOf(w, side);
  const abs = join(root, path);
  if (await isDir(abs)) return 'skipped (a folder)';
  if (await parentIsFile(root, path)) return 'skipped (parent is a file)';
  const previous = await readIf(abs);
  await supersede(m, w, side, path);
  const text = mode === 'append' && previous !== null ? `${previous}\n${makeContent(m, side, size, null)}` : makeContent(m, side, size, previous);
  const label = `${side}#${m.counter}`;
  m.versions.set(text, { side, paths: new Set([path]), superseded: false, label });
  m.touch(side, path);
  if (mode === 'append' && previous !== null) {
    if (side === 'remote') await w.server.mkdir(join(w.a.id, dirname(path)));
    await appendFile(abs, text.slice(previous.length));
  } else if (side === 'local') await w.a.localWrite(path, text);
  else {
    await w.server.mkdir(join(w.a.id, dirname(path)));
    // Through a temp name outside the account's folder, as a server stores an upload.
    const tmp = await w.server.writeFile(`.model-tmp-${w.a.id}-${m.counter}`, text);
    await rename(tmp, abs);
  }
  if (side === 'remote') await serverTouched(w, abs);
  return `${mode} ${text.length} B (${label})`;
}

export async function userDelete(m: Model, w: World, side: Side, path: string): Promise<string> {
  const abs = join(rootOf(w, side), path);
  if (!(await exists(abs))) return 'skipped (absent)';
  if (await isDir(abs)) {
    for (const [p, text] of await filesBelow(rootOf(w, side), path)) {
      const v = m.versions.get(text);
      if (v !== undefined) v.superseded = true;
      m.touch(side, p);
    }
  } else await supersede(m, w, side, path);
  for (const p of FILES.filter((f) => f === path || f.startsWith(`${path}/`))) m.touch(side, p);
  await rm(abs, { recursive: true, force: true });
  if (side === 'remote') await serverTouched(w, dirname(abs));
  return 'deleted';
}

export async function userRename(m: Model, w: World, side: Side, from: string, to: string): Promise<string> {
  const root = rootOf(w, side);
  if (from === to || to.startsWith(`${from}/`)) return 'skipped (same or below)';
  if (!(await exists(join(root, from)))) return 'skipped (absent)';
  if (await exists(join(root, to))) return 'skipped (target exists)';
  if (await parentIsFile(root, to)) return 'skipped (target parent is a file)';
  const moved = (await isDir(join(root, from))) ? await filesBelow(root, from) : new Map([[from, (await readIf(join(root, from))) ?? '']]);
  for (const [p, text] of moved) {
    const q = `${to}${p.slice(from.length)}`;
    m.versions.get(text)?.paths.add(q);
    // A conflict copy made earlier moves with its file: both sides did change the file it copies.
    if (m.conflictable.has(p)) m.conflictable.add(q);
    m.touch(side, p);
    m.touch(side, q);
  }
  for (const p of FILES.filter((f) => f === from || f.startsWith(`${from}/`) || f === to || f.startsWith(`${to}/`))) m.touch(side, p);
  if (side === 'remote') await w.server.mkdir(join(w.a.id, dirname(to)));
  else await mkdir(join(root, dirname(to)), { recursive: true });
  await rename(join(root, from), join(root, to));
  if (side === 'remote') await serverTouched(w, join(root, to));
  return `renamed ${moved.size} file(s)`;
}

export async function userMkdir(m: Model, w: World, side: Side, folder: string): Promise<string> {
  const abs = join(rootOf(w, side), folder);
  if (await exists(abs)) return 'skipped (exists)';
  m.touch(side, folder);
  if (side === 'remote') {
    await w.server.mkdir(join(w.a.id, folder));
    await serverTouched(w, abs);
  } else await mkdir(abs);
  return 'made';
}

// ─── commands ─────────────────────────────────────────────────────────────────────────────

export abstract class ModelCommand<R extends World = World> implements fc.AsyncCommand<Model, R> {
  check(): boolean {
    return true;
  }
  abstract exec(m: Model, w: R): Promise<string>;
  abstract toString(): string;
  async run(m: Model, w: R): Promise<void> {
    const outcome = await this.exec(m, w);
    m.log.push(`${this.toString()}: ${outcome}`);
  }
}

export class WriteCmd extends ModelCommand {
  constructor(
    readonly side: Side,
    readonly path: string,
    readonly mode: 'write' | 'append',
    readonly size: number,
  ) {
    super();
  }
  exec(m: Model, w: World): Promise<string> {
    return userWrite(m, w, this.side, this.path, this.mode, this.size);
  }
  toString(): string {
    return `${this.side} ${this.mode} ${this.path} ${this.size}`;
  }
}

export class DeleteCmd extends ModelCommand {
  constructor(
    readonly side: Side,
    readonly path: string,
  ) {
    super();
  }
  exec(m: Model, w: World): Promise<string> {
    return userDelete(m, w, this.side, this.path);
  }
  toString(): string {
    return `${this.side} delete ${this.path}`;
  }
}

export class RenameCmd extends ModelCommand {
  constructor(
    readonly side: Side,
    readonly from: string,
    readonly to: string,
  ) {
    super();
  }
  exec(m: Model, w: World): Promise<string> {
    return userRename(m, w, this.side, this.from, this.to);
  }
  toString(): string {
    return `${this.side} rename ${this.from} -> ${this.to}`;
  }
}

export class MkdirCmd extends ModelCommand {
  constructor(
    readonly side: Side,
    readonly folder: string,
  ) {
    super();
  }
  exec(m: Model, w: World): Promise<string> {
    return userMkdir(m, w, this.side, this.folder);
  }
  toString(): string {
    return `${this.side} mkdir ${this.folder}`;
  }
}

/** The user commands on both sides, as fast-check arbitraries (sizes mostly small, one in seven 40–400 KB). */
export function userCommandArbs(maxBig = 400_000): fc.Arbitrary<ModelCommand>[] {
  const side = fc.constantFrom<Side>('local', 'remote');
  const file = fc.constantFrom(...FILES);
  const target = fc.constantFrom(...FILES, ...FOLDERS);
  const folder = fc.constantFrom(...FOLDERS);
  const size = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 40_000, max: maxBig }) });
  return [
    fc.tuple(side, file, size).map(([s, p, n]): ModelCommand => new WriteCmd(s, p, 'write', n)),
    fc.tuple(side, file, size).map(([s, p, n]): ModelCommand => new WriteCmd(s, p, 'write', n)),
    fc.tuple(side, file, size).map(([s, p, n]): ModelCommand => new WriteCmd(s, p, 'append', n)),
    fc.tuple(side, target).map(([s, p]): ModelCommand => new DeleteCmd(s, p)),
    fc.oneof(
      fc.tuple(side, file, file).map(([s, a, b]): ModelCommand => new RenameCmd(s, a, b)),
      fc.tuple(side, folder, folder).map(([s, a, b]): ModelCommand => new RenameCmd(s, a, b)),
    ),
    fc.tuple(side, folder).map(([s, f]): ModelCommand => new MkdirCmd(s, f)),
  ];
}

// ─── the oracle ───────────────────────────────────────────────────────────────────────────

export interface OracleHooks {
  /** One `sync --once` (the model's bookkeeping included); its exit code. */
  sync(extra: string[]): Promise<number>;
  /** Methods and paths of this account's requests other than PROPFIND made by `during`. */
  moved(during: () => Promise<void>): Promise<string[]>;
}

async function journalRows(state: string): Promise<{ ok: unknown; files: string[]; folders: string[]; failures: number; nextRetry: number | null }> {
  const db = new Database(join(state, 'journal.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT path, kind FROM entries').all() as { path: string; kind: string }[];
    const f = db.prepare('SELECT count(*) AS n, max(next_retry_ms) AS t FROM failures').get() as { n: number; t: number | null };
    return {
      ok: db.pragma('integrity_check', { simple: true }),
      files: rows.filter((x) => x.kind === 'file').map((x) => x.path.slice(1)).sort(),
      folders: rows.filter((x) => x.kind === 'folder').map((x) => x.path.slice(1)).sort(),
      failures: f.n,
      nextRetry: f.t,
    };
  } finally {
    db.close();
  }
}

async function foldersOf(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of await allPaths(root)) if (!p.startsWith('.netfs') && (await isDir(join(root, p)))) out.push(p);
  return out.sort();
}

export interface OracleReport {
  finalPasses: number;
  conflictCopies: number;
  liveVersions: number;
}

/** The final fault-free `sync --once` (until exit 0: backoffs waited out, a held plan confirmed, at most 8), then the common oracle. */
export async function finalSyncAndOracle(m: Model, w: World, hooks: OracleHooks): Promise<OracleReport> {
  const why = (): string => `\n${m.log.join('\n')}`;
  let code = -1;
  let passes = 0;
  while (code !== 0 && passes < 8) {
    code = await hooks.sync(code === 4 ? ['--yes'] : []);
    passes++;
    if (code === 5) {
      const next = (await journalRows(w.a.state)).nextRetry;
      await sleep(Math.min(15_000, Math.max(50, (next ?? 0) - Date.now() + 20)));
    }
  }
  m.log.push(`final sync: exit ${code} after ${passes} pass(es)`);
  expect(code, `final sync did not reach exit 0${why()}`).toBe(0);
  const local = await manifest(w.a.local);
  const remote = await manifest(w.a.remoteDir);
  // (a) the same files with the same bytes on both sides, and the same folders.
  expect([...local].sort(), `(a) trees differ${why()}`).toEqual([...remote].sort());
  expect(await foldersOf(w.a.local), `(a) folders differ${why()}`).toEqual(await foldersOf(w.a.remoteDir));
  // (b) nothing a user wrote is lost.
  const byHash = new Map<string, string[]>();
  for (const [p, h] of local) byHash.set(h, [...(byHash.get(h) ?? []), p]);
  let live = 0;
  for (const [text, v] of m.versions) {
    if (v.superseded) continue;
    live++;
    const where = byHash.get(createHash('sha256').update(text).digest('hex')) ?? [];
    const ok = where.some((p) => v.paths.has(p) || (isCopy(p) && v.paths.has(originalOf(p))));
    expect(ok, `(b) ${v.label} (names ${[...v.paths].join(', ')}) lost; its bytes are at [${where.join(', ')}]${why()}`).toBe(true);
  }
  // Conflict copies only where both sides changed (or a sync that did not end cleanly came between).
  const copies = [...local.keys()].filter(isCopy);
  for (const p of copies) expect(m.conflictable.has(originalOf(p)), `conflict copy ${p}, but ${originalOf(p)} was not changed on both sides${why()}`).toBe(true);
  // (c) nothing left behind.
  expect(await leftovers(w.a.local), `(c)${why()}`).toEqual([]);
  expect(await leftovers(w.a.remoteDir), `(c)${why()}`).toEqual([]);
  expect(await stagingLeftovers(w.a.state), `(c)${why()}`).toEqual([]);
  expect(await exists(join(w.a.state, 'engine.lock')), `(c) lock left${why()}`).toBe(false);
  // (d) the journal is sound and matches the disk; (e) nothing keeps failing.
  const j = await journalRows(w.a.state);
  expect(j.ok).toBe('ok');
  expect(j.files, `(d) journal files${why()}`).toEqual([...local.keys()].sort());
  expect(j.folders, `(d) journal folders${why()}`).toEqual(await foldersOf(w.a.local));
  expect(j.failures, `(e) failures kept${why()}`).toBe(0);
  // (e) idle: one more pass exits 0 and moves nothing.
  let again = -1;
  const moved = await hooks.moved(async () => {
    again = await hooks.sync([]);
  });
  expect(again, `(e) a converged tree did not sync cleanly${why()}`).toBe(0);
  expect(moved, `(e) a converged tree moved again${why()}`).toEqual([]);
  return { finalPasses: passes, conflictCopies: copies.length, liveVersions: live };
}

/** Removes a run's folders (one Apache serves every run). */
export async function dropWorld(w: World): Promise<void> {
  await rm(w.a.local, { recursive: true, force: true });
  await rm(w.a.state, { recursive: true, force: true });
  await rm(w.a.remoteDir, { recursive: true, force: true });
}

// Crash-fill (cache issue item 9, scenario C-style): a child process fills the cache through
// the real store (writes, later collects, staging marks, invalidations, closes of several
// objects) and is SIGKILLed at 50 random moments. After each kill, before anything repairs it,
// the index never points at a missing or short backing file; then, restarted, every read
// returns the true bytes or a miss, never wrong bytes; and once the store is closed again every
// file under objects/ is named by a row that owns it, and no row counts a file it does not have.
// The seed is printed; CRASH_FILL_SEED=<n> replays a run. The child and what it imports are
// transpiled once (node_modules/.cache), so 50 children do not each start a TypeScript loader.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { seededRandom } from '../testing/fault-proxy-rules.js';
import { FILL_BLOCK, FILL_GRANULE, FILL_KEYS, FILL_VOLUME, fillAux, fillKey, truth, versionOf } from './crash-fill-model.js';
import { objectName, objectPath } from './layout.js';
import { CacheStore } from './store.js';
import { tempCacheDir } from './testing.js';

const KILLS = 50;
const SEED = Number(process.env['CRASH_FILL_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const here = fileURLToPath(new URL('.', import.meta.url));
let dir: string;
let cleanup: () => Promise<void>;
let child: { script: string; remove: () => Promise<void> };

beforeAll(async () => {
  ({ dir, cleanup } = await tempCacheDir());
  child = await transpileOnce(join(here, 'crash-fill-child.ts'));
});
afterAll(async () => {
  await cleanup();
  await child?.remove();
});

/**
 * Transpiles `entry` and every .ts file it reaches through relative `.js` imports into
 * node_modules/.cache/netfs-crash-fill-<pid>/ (an ESM package there), keeping the repository's
 * layout so bare imports (better-sqlite3) still resolve from the repository's node_modules.
 */
async function transpileOnce(entry: string): Promise<{ script: string; remove: () => Promise<void> }> {
  const root = resolve(here, '..', '..');
  const out = join(root, 'node_modules', '.cache', `netfs-crash-fill-${process.pid}`);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      const dep = resolve(dirname(file), `${m[1]}.ts`);
      if (existsSync(dep)) todo.push(dep);
    }
    const js = ts.transpileModule(source, { fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true } }).outputText;
    const dest = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, js);
  }
  return { script: join(out, relative(root, entry)).replace(/\.ts$/, '.js'), remove: () => rm(out, { recursive: true, force: true }) };
}

interface Row {
  id: number;
  key: string;
  name: string;
  etag: string | null;
  dirty: number;
  staging: number;
  has_file: number;
  backing_size: number;
  allocated?: number;
}

function rows(): Row[] {
  const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM objects').all() as Row[];
  } finally {
    db.close();
  }
}

/** Runs the child until `delayMs` after it is ready, then SIGKILLs it. */
async function fillAndKill(index: number, seed: number, delayMs: number): Promise<void> {
  const proc = spawn(process.execPath, [child.script, dir, String(index), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.once('exit', (code, signal) => done({ code, signal })));
  await new Promise<void>((done, fail) => {
    proc.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('READY')) done();
    });
    void exited.then(({ code }) => fail(new Error(`child ${index} exited ${code} before READY: ${err}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  proc.kill('SIGKILL');
  const { code, signal } = await exited;
  if (signal !== 'SIGKILL') throw new Error(`child ${index} (seed ${seed}) ended by itself (code ${code}): ${err}`);
}

/** Before any repair: no row the store would adopt points at a missing or short file. */
async function checkRawIndex(when: string): Promise<void> {
  for (const r of rows()) {
    const adoptable = r.dirty === 0 || r.staging === 1;
    if (!adoptable || r.has_file !== 1) continue;
    const st = await stat(objectPath(dir, r.name)).catch(() => null);
    expect(st, `${when}: ${r.key} points at a missing backing file`).not.toBeNull();
    expect(st!.size, `${when}: ${r.key}'s backing file is shorter than its backing size`).toBeGreaterThanOrEqual(r.backing_size);
  }
}

/** After a clean close: files and rows agree both ways. */
async function checkFilesAgree(when: string): Promise<void> {
  const all = rows();
  const byName = new Map(all.map((r) => [r.name, r]));
  const root = join(dir, 'objects');
  const files: string[] = [];
  for (const a of await readdir(root)) for (const b of await readdir(join(root, a))) for (const f of await readdir(join(root, a, b))) files.push(f);
  for (const f of files) {
    const r = byName.get(f);
    expect(r, `${when}: ${f} is an orphan (no row names it)`).toBeDefined();
    expect(r!.has_file, `${when}: ${f} is on disk but its row (${r!.key}) says it has no file`).toBe(1);
  }
  for (const r of all) {
    if (r.has_file === 1) expect(files, `${when}: ${r.key}'s file is missing`).toContain(r.name);
    else if (r.allocated !== undefined) expect(r.allocated, `${when}: ${r.key} counts ${r.allocated} bytes without a file`).toBe(0);
    expect(r.dirty, `${when}: ${r.key} is DIRTY after a clean close`).toBe(0);
  }
  expect(await readdir(join(dir, 'graveyard'))).toEqual([]);
}

describe('crash-fill: SIGKILL at random points while filling the cache', () => {
  it(`${KILLS} kills: reads give the true bytes or a miss; the index and the store agree (seed ${SEED})`, { timeout: 120_000 }, async () => {
    console.log(`crash-fill seed ${SEED} (CRASH_FILL_SEED=${SEED} replays it)`);
    const rand = seededRandom(SEED);
    let hits = 0;
    let misses = 0;
    const outcomes = new Map<string, number>();
    for (let i = 0; i < KILLS; i++) {
      const delay = rand() < 0.15 ? Math.floor(rand() * 5) : Math.floor(rand() * 120);
      await fillAndKill(i, (SEED + i * 7919) >>> 0, delay);
      const when = `after kill ${i} (seed ${SEED}, ${delay} ms)`;
      await checkRawIndex(when);
      const store = await CacheStore.open(dir, { volume: FILL_VOLUME, blockSize: FILL_BLOCK, granule: FILL_GRANULE });
      try {
        for (let k = 0; k < FILL_KEYS; k++) {
          const row = rows().find((r) => r.key === fillKey(k));
          const v = row === undefined ? null : versionOf(row.etag);
          if (v === null) continue;
          const aux = fillAux(k, v);
          const obj = await store.openObject(fillKey(k), aux);
          const outcome = store.outcomes.at(-1)!.outcome;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          for (let start = 0; start < aux.size; start += FILL_GRANULE) {
            const len = Math.min(aux.size, start + FILL_GRANULE) - start;
            const buf = new Uint8Array(len);
            const hit = await obj.read(start, [buf]).then(
              () => true,
              (e: unknown) => {
                if (isNetfsError(e) && e.code === 'IO') return false;
                throw e;
              },
            );
            if (hit) {
              hits++;
              expect(Buffer.from(buf).equals(Buffer.from(truth(k, v, start, len))), `${when}: wrong bytes in ${fillKey(k)} v${v} at ${start}`).toBe(true);
            } else misses++;
          }
          // Whatever the occupancy promises is served.
          for (const x of await obj.queryOccupancy(0, aux.size)) {
            const buf = new Uint8Array(x.end - x.start);
            await obj.read(x.start, [buf]);
            expect(Buffer.from(buf).equals(Buffer.from(truth(k, v, x.start, buf.length))), `${when}: occupancy of ${fillKey(k)} serves wrong bytes`).toBe(true);
          }
          expect(objectName(FILL_VOLUME, fillKey(k))).toBe(row!.name);
        }
      } finally {
        await store.close();
      }
      await checkFilesAgree(when);
    }
    console.log(`crash-fill: ${hits} granules served, ${misses} misses; open outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    // Not vacuous: kills left data to serve, and left DIRTY objects to discard or resume.
    expect(hits).toBeGreaterThan(50);
    expect(misses).toBeGreaterThan(0);
    expect((outcomes.get('dirty') ?? 0) + (outcomes.get('resumed') ?? 0)).toBeGreaterThan(0);
  });
});

/**
 * L3, churn on both sides against a real Apache (25 s, the quick-CI figure of test-scenarios.md):
 *
 *   seeded start: 200 files (5 % dotfiles) in 4 folders, synced
 *   round:  each file gets at most one change, on one side (local folder or Apache's data folder):
 *             delete ~10 % | overwrite a random 1 KiB ~10 % | case-only rename ~5 % |
 *             append keeping the mtime ~8 % | new files ~10 % (5 % of them dotfiles)
 *           -> one `sync --once` (exit 0) -> both sides equal the model of what was written, and
 *              the common oracle (a), (c), (d), (e); every mtime-preserving append is on the
 *              other side
 *
 * No file is changed on both sides in one round, so no conflict copy is expected: the model is
 * exact, which makes (b) "nothing lost" a plain equality. The seed is in the test name; set
 * NETFS_L3_SEED to replay one.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, startApache, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, entriesOf } from './scenario-kit.js';
import { expectConverged } from './scenario-oracle.js';

const SEED = Number(process.env['NETFS_L3_SEED'] ?? Date.now() % 1_000_000);
const DURATION_MS = 25_000;
const FOLDERS = ['docs', 'docs/deep', 'media', 'Mixed Case'];

let apache: ApacheServer;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  temp = await makeTempDir('netfs-scen-churn-');
});
afterAll(async () => {
  await apache.stop();
  await temp.remove();
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('L3: churn on both sides', () => {
  it(`L3 (seed ${SEED}): 25 s of rounds (delete, 1 KiB overwrite, case-only rename, mtime-preserving append, dotfiles) on both sides; after each round one sync --once converges and the appends are propagated`, { timeout: 180_000 }, async () => {
    const random = seededRandom(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    let serial = 0;
    const newName = (): string => {
      const n = ++serial;
      return `${pick(FOLDERS)}/${random() < 0.05 ? `.dot${n}` : `file${n}`}.bin`;
    };

    // The model: what each path must hold on both sides after the next sync.
    const model = new Map<string, Buffer>();
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 200; i++) {
      const p = newName();
      files[p] = bytes(1024 + Math.floor(random() * 4096));
      model.set(p, files[p]);
    }
    const a = await account({ server: apache, work: temp.path, files });
    const first = await a.run('sync', '--once');
    expect(first.code, first.stderr).toBe(0);
    const why = (round: number): string => `seed ${SEED}, round ${round}`;
    await expectConverged(a, apache, why(0), () => a.run('sync', '--once'));

    const t0 = Date.now();
    let round = 0;
    const tally = { delete: 0, overwrite: 0, caseRename: 0, append: 0, add: 0, dot: 0 };
    while (Date.now() - t0 < DURATION_MS) {
      round++;
      /** mtime-preserving appends this round: the path and the side it was made on. */
      const appends: { path: string; side: 'local' | 'server' }[] = [];
      const ageMs = 5_000 + round; // server writes: mtime in the past (strong ETags), never the same twice
      for (const path of [...model.keys()]) {
        const r = random();
        const side = random() < 0.5 ? 'local' : 'server';
        const file = join(side === 'local' ? a.local : a.remoteDir, path);
        const current = model.get(path) as Buffer;
        if (r < 0.1) {
          await unlink(file);
          model.delete(path);
          tally.delete++;
        } else if (r < 0.2) {
          // Overwrite a random 1 KiB in place (same size).
          const offset = Math.floor(random() * Math.max(1, current.length - 1024));
          const patch = bytes(Math.min(1024, current.length));
          const next = Buffer.from(current);
          patch.copy(next, offset);
          const fh = await open(file, 'r+');
          await fh.write(patch, 0, patch.length, offset);
          await fh.close();
          if (side === 'server') await utimes(file, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
          model.set(path, next);
          tally.overwrite++;
        } else if (r < 0.25) {
          // Case-only rename of the name (not the folder): report.bin -> Report.bin and back.
          const slash = path.lastIndexOf('/');
          const name = path.slice(slash + 1);
          const i = name.startsWith('.') ? 1 : 0;
          const ch = name.charAt(i);
          const flipped = ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
          const to = `${path.slice(0, slash + 1)}${name.slice(0, i)}${flipped}${name.slice(i + 1)}`;
          if (to === path || model.has(to)) continue;
          await rename(file, join(side === 'local' ? a.local : a.remoteDir, to));
          model.delete(path);
          model.set(to, current);
          tally.caseRename++;
        } else if (r < 0.33) {
          // Append, then put the mtime back: only the size tells.
          const before = await stat(file, { bigint: true });
          const tail = bytes(1 + Math.floor(random() * 300));
          await writeFile(file, tail, { flag: 'a' });
          // To the nanosecond (utimes takes a double and would round it): touch -d @s.ns.
          const ns = before.mtimeNs;
          execFileSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, file]);
          expect((await stat(file, { bigint: true })).mtimeNs).toBe(before.mtimeNs);
          model.set(path, Buffer.concat([current, tail]));
          appends.push({ path, side });
          tally.append++;
        }
      }
      for (let n = Math.floor(20 + random() * 10); n > 0; n--) {
        const path = newName();
        if (model.has(path)) continue;
        const data = bytes(1024 + Math.floor(random() * 4096));
        if (random() < 0.5) {
          await mkdir(join(a.local, path, '..'), { recursive: true });
          await writeFile(join(a.local, path), data);
        } else {
          await a.serverWrite(path, data, ageMs);
        }
        model.set(path, data);
        tally.add++;
        if (path.includes('/.dot')) tally.dot++;
      }

      const r = await a.run('sync', '--once');
      expect(r.code, `sync --once: ${r.stderr} (${why(round)})`).toBe(0);
      // The model, exactly, on both sides (nothing lost, nothing extra, no conflict copy).
      const expected = [...model].map(([p, b]) => [p, sha(b)] as [string, string]).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      const local = await expectConverged(a, apache, why(round), () => a.run('sync', '--once'));
      expect(entriesOf(local), `both sides hold what was written (${why(round)})`).toEqual(expected);
      for (const { path, side } of appends) {
        const other = side === 'local' ? await a.serverRead(path) : await readFile(join(a.local, path));
        expect(sha(other), `mtime-preserving append on the ${side} side of ${path} propagated (${why(round)})`).toBe(sha(model.get(path) as Buffer));
      }
    }
    console.log(`L3 seed ${SEED}: ${round} rounds in ${Date.now() - t0} ms, ${model.size} files at the end; ${JSON.stringify(tally)}`);
    expect(round).toBeGreaterThanOrEqual(3);
    expect(tally.append).toBeGreaterThan(0);
    expect(tally.caseRename).toBeGreaterThan(0);
  });
});

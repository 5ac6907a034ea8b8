/**
 * The child of the crash-fill test (crash-fill.test.ts): it fills the cache through the store
 * until the parent SIGKILLs it - opens with this child's version (a changed one discards),
 * writes collected at once or later, staging marks, invalidations, closes, and reads that check
 * the bytes themselves - all driven by a seeded PRNG.
 *
 *   argv: <cache dir> <child index> <seed>
 *   open store ──> "READY" ──> op, op, op, ... <- SIGKILL (at a random moment)
 */
import { isNetfsError } from '../api/errors.js';
import { seededRandom } from '../testing/fault-proxy-rules.js';
import { FILL_BLOCK, FILL_GRANULE, FILL_KEYS, FILL_VOLUME, fillAux, fillKey, fillSize, truth, versionForChild } from './crash-fill-model.js';
import type { CacheObject } from './object.js';
import { CacheStore } from './store.js';

const [dir, indexArg, seedArg] = process.argv.slice(2);
if (dir === undefined || indexArg === undefined || seedArg === undefined) throw new Error('usage: crash-fill-child.ts <dir> <index> <seed>');
const v = versionForChild(Number(indexArg));
const rand = seededRandom(Number(seedArg));
const int = (n: number): number => Math.floor(rand() * n);

const store = await CacheStore.open(dir, { volume: FILL_VOLUME, blockSize: FILL_BLOCK, granule: FILL_GRANULE });
const objects = new Map<number, CacheObject>();
const pending = new Map<number, Array<[number, number]>>();
process.stdout.write('READY\n');

for (;;) {
  const k = int(FILL_KEYS);
  const size = fillSize(k, v);
  let obj = objects.get(k);
  if (obj === undefined) {
    obj = await store.openObject(fillKey(k), fillAux(k, v));
    objects.set(k, obj);
    pending.set(k, []);
    // Some objects stage a download (a crash keeps their collected ranges), some stop staging.
    const staging = rand() < 0.4;
    if (staging !== obj.staging) await obj.setStaging(staging);
  }
  const waiting = pending.get(k)!;
  const op = rand();
  if (op < 0.5) {
    // A write of 1..8 blocks at a block boundary (the last one may end at EOF).
    const blocks = Math.ceil(size / FILL_BLOCK);
    const start = int(blocks) * FILL_BLOCK;
    const end = Math.min(size, start + (1 + int(8)) * FILL_BLOCK);
    await obj.write(start, [truth(k, v, start, end - start)]);
    // Overlapping uncollected writes are superseded by this one.
    const keep = waiting.filter(([s, e]) => e <= start || s >= end);
    waiting.splice(0, waiting.length, ...keep);
    if (rand() < 0.75) await obj.collectWrite(start, end - start);
    else waiting.push([start, end]);
  } else if (op < 0.65) {
    const w = waiting.shift();
    if (w !== undefined) await obj.collectWrite(w[0], w[1] - w[0]);
  } else if (op < 0.7) {
    await obj.invalidate('write-error');
    waiting.length = 0;
  } else if (op < 0.8) {
    await obj.close();
    objects.delete(k);
  } else {
    // Reads check themselves: the true bytes or a miss, never anything else.
    const g = int(Math.ceil(size / FILL_GRANULE));
    const start = g * FILL_GRANULE;
    const len = Math.min(size, start + FILL_GRANULE) - start;
    const buf = new Uint8Array(len);
    const hit = await obj.read(start, [buf]).then(
      () => true,
      (e: unknown) => {
        if (isNetfsError(e) && e.code === 'IO') return false;
        throw e;
      },
    );
    if (hit && !Buffer.from(buf).equals(Buffer.from(truth(k, v, start, len)))) {
      process.stderr.write(`WRONG BYTES: key ${k} v${v} granule ${g}\n`);
      process.exit(3);
    }
  }
}

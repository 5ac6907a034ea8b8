// P5-lite: random write / collect / read / invalidate / reopen sequences against the real store
// (real files, real SQLite). A read returns exactly the bytes of the last collected write of
// every byte, or misses; never partial or foreign bytes; and whatever the model holds is served.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isNetfsError } from '../api/errors.js';
import { objectPath } from './layout.js';
import type { CacheObject } from './object.js';
import { CacheStore } from './store.js';
import { pattern, tempCacheDir } from './testing.js';

const BS = 4096;
const GR = 16384;
const SIZE = 7 * GR + 1234;
const BLOCKS = Math.ceil(SIZE / BS);
const GRANULES = Math.ceil(SIZE / GR);
const AUX = { etag: '"p"', lastModified: 5, size: SIZE };

type Op =
  | { op: 'write'; block: number; blocks: number; seed: number; collect: boolean }
  | { op: 'collect' }
  | { op: 'read'; granule: number; granules: number }
  | { op: 'invalidate' }
  | { op: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('write' as const), block: fc.oneof(fc.integer({ min: 0, max: BLOCKS - 1 }), fc.integer({ min: 0, max: GRANULES - 1 }).map((g) => (g * GR) / BS)), blocks: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(4, 8, 12)), seed: fc.integer({ min: 1, max: 250 }), collect: fc.oneof(fc.constant(true), fc.constant(true), fc.boolean()) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'collect' as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), granule: fc.integer({ min: 0, max: GRANULES - 1 }), granules: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'invalidate' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

interface Pending {
  start: number;
  bytes: Uint8Array;
}

describe('P5-lite: the store serves collected bytes or misses', () => {
  it('holds for random operation sequences, across re-opens', async () => {
    let hits = 0;
    let misses = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40, size: 'medium' }), async (ops) => {
        const { dir, cleanup } = await tempCacheDir();
        const opts = { volume: 'p5', blockSize: BS, granule: GR };
        let store = await CacheStore.open(dir, opts);
        let obj: CacheObject = await store.openObject('/p', AUX);
        const data = new Uint8Array(SIZE);
        const known = new Uint8Array(SIZE); // 1 = the model says these bytes are collected
        let pending: Pending[] = [];
        try {
          for (const o of ops) {
            if (o.op === 'write') {
              const start = o.block * BS;
              const end = Math.min(SIZE, start + o.blocks * BS);
              const bytes = pattern(end - start, o.seed);
              pending = pending.filter((p) => p.start + p.bytes.length <= start || p.start >= end);
              known.fill(0, start, end);
              await obj.write(start, [bytes]);
              if (o.collect) {
                await obj.collectWrite(start, bytes.length);
                data.set(bytes, start);
                known.fill(1, start, end);
              } else pending.push({ start, bytes });
            } else if (o.op === 'collect') {
              const p = pending.shift();
              if (p === undefined) continue;
              await obj.collectWrite(p.start, p.bytes.length);
              data.set(p.bytes, p.start);
              known.fill(1, p.start, p.start + p.bytes.length);
            } else if (o.op === 'read') {
              const start = o.granule * GR;
              const end = Math.min(SIZE, start + o.granules * GR);
              const buf = new Uint8Array(end - start);
              const got = await obj.read(start, [buf]).then(
                (n) => n,
                (e: unknown) => {
                  if (isNetfsError(e) && e.code === 'IO') return null;
                  throw e;
                },
              );
              const allKnown = known.subarray(start, end).every((k) => k === 1);
              if (got === null) misses++;
              else hits++;
              if (got === null) expect(allKnown, `a miss at [${start}, ${end}) the model holds`).toBe(false);
              else {
                expect(allKnown, `bytes served at [${start}, ${end}) that were never collected`).toBe(true);
                expect(Buffer.from(buf).equals(Buffer.from(data.subarray(start, end)))).toBe(true);
              }
              for (const x of await obj.queryOccupancy(0, SIZE)) {
                expect(known.subarray(x.start, x.end).every((k) => k === 1)).toBe(true);
              }
            } else if (o.op === 'invalidate') {
              await obj.invalidate('write-error');
              known.fill(0);
              pending = [];
            } else {
              await store.close();
              for (const p of pending) known.fill(0, p.start, p.start + p.bytes.length);
              pending = [];
              store = await CacheStore.open(dir, opts);
              obj = await store.openObject('/p', AUX);
            }
          }
        } finally {
          await store.close();
          await cleanup();
        }
      }),
      { numRuns: 100 },
    );
    // Not vacuous: both answers happened.
    expect(hits).toBeGreaterThan(10);
    expect(misses).toBeGreaterThan(10);
  });
});

// P5 (full): a fast-check command model of put / get / evict / stage / crash / reopen over three
// keys of the real store. A crash is a store abandoned without close (CacheStore.abandonForTesting:
// descriptors and index closed, nothing committed), then opened again. The model:
//   put      write (collected now, or later by `collect`): bytes the model knows only once collected
//   get      the bytes of the last collected put of every byte, or a miss exactly when the model
//            does not hold the whole granule range; never partial, never another key's bytes
//   evict    invalidate: nothing held
//   crash    uncollected writes are lost; an object with one is DIRTY and loses everything,
//            unless it is staging (a staged download resumes with what was collected)
//   reopen   a clean close: uncollected writes dropped, collected ones kept
// After every crash, before the store repairs anything, no row it would adopt points at a
// missing or short backing file.
const KEYS = ['/p5/a', '/p5/b', '/p5/c'] as const;

interface KeyModel {
  data: Uint8Array;
  known: Uint8Array;
  pending: Pending[];
  staging: boolean;
}
interface Model {
  keys: Map<string, KeyModel>;
}
interface Real {
  dir: string;
  store: CacheStore;
  objs: Map<string, CacheObject>;
  hits: number;
  misses: number;
  crashes: number;
  /** Crashes that caught a staging object with an uncollected write (it must resume). */
  stagedCrashes: number;
}

const OPTS = { volume: 'p5', blockSize: BS, granule: GR };

async function objOf(r: Real, key: string): Promise<CacheObject> {
  let obj = r.objs.get(key);
  if (obj === undefined) {
    obj = await r.store.openObject(key, AUX);
    r.objs.set(key, obj);
  }
  return obj;
}

function keyModel(m: Model, key: string): KeyModel {
  let km = m.keys.get(key);
  if (km === undefined) {
    km = { data: new Uint8Array(SIZE), known: new Uint8Array(SIZE), pending: [], staging: false };
    m.keys.set(key, km);
  }
  return km;
}

/** Rows the store would adopt (clean, or staging) never point at a missing or short file. */
async function expectIndexAgrees(dir: string): Promise<void> {
  const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
  let rows: { key: string; name: string; dirty: number; staging: number; has_file: number; backing_size: number }[];
  try {
    rows = db.prepare('SELECT key, name, dirty, staging, has_file, backing_size FROM objects').all() as typeof rows;
  } finally {
    db.close();
  }
  for (const r of rows) {
    if ((r.dirty === 0 || r.staging === 1) && r.has_file === 1) {
      const st = await stat(objectPath(dir, r.name)).catch(() => null);
      expect(st, `${r.key}: the index points at a missing backing file`).not.toBeNull();
      expect(st!.size, `${r.key}: the backing file is shorter than the index says`).toBeGreaterThanOrEqual(r.backing_size);
    }
  }
}

class PutCmd implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly block: number, readonly blocks: number, readonly seed: number, readonly collect: boolean) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const km = keyModel(m, this.key);
    const start = this.block * BS;
    const end = Math.min(SIZE, start + this.blocks * BS);
    // Each key's bytes differ from every other key's: a foreign byte cannot pass for a right one.
    const bytes = pattern(end - start, this.seed * 7 + KEYS.indexOf(this.key as (typeof KEYS)[number]));
    const obj = await objOf(r, this.key);
    km.pending = km.pending.filter((p) => p.start + p.bytes.length <= start || p.start >= end);
    km.known.fill(0, start, end);
    await obj.write(start, [bytes]);
    if (this.collect) {
      await obj.collectWrite(start, bytes.length);
      km.data.set(bytes, start);
      km.known.fill(1, start, end);
    } else km.pending.push({ start, bytes });
  }
  toString = () => `put(${this.key}, ${this.block}+${this.blocks}, #${this.seed}${this.collect ? '' : ', later'})`;
}

class CollectCmd implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check = (m: Readonly<Model>) => (m.keys.get(this.key)?.pending.length ?? 0) > 0;
  async run(m: Model, r: Real): Promise<void> {
    const km = keyModel(m, this.key);
    const p = km.pending.shift()!;
    await (await objOf(r, this.key)).collectWrite(p.start, p.bytes.length);
    km.data.set(p.bytes, p.start);
    km.known.fill(1, p.start, p.start + p.bytes.length);
  }
  toString = () => `collect(${this.key})`;
}

class GetCmd implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly granule: number, readonly granules: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const km = keyModel(m, this.key);
    const obj = await objOf(r, this.key);
    const start = this.granule * GR;
    const end = Math.min(SIZE, start + this.granules * GR);
    const buf = new Uint8Array(end - start);
    const hit = await obj.read(start, [buf]).then(
      () => true,
      (e: unknown) => {
        if (isNetfsError(e) && e.code === 'IO') return false;
        throw e;
      },
    );
    const held = km.known.subarray(start, end).every((k) => k === 1);
    if (hit) {
      r.hits++;
      expect(held, `${this.key}: bytes served at [${start}, ${end}) that no collected put wrote`).toBe(true);
      expect(Buffer.from(buf).equals(Buffer.from(km.data.subarray(start, end))), `${this.key}: wrong bytes at [${start}, ${end})`).toBe(true);
    } else {
      r.misses++;
      expect(held, `${this.key}: a miss at [${start}, ${end}) although every byte was collected`).toBe(false);
    }
    for (const x of await obj.queryOccupancy(0, SIZE)) {
      expect(km.known.subarray(x.start, x.end).every((k) => k === 1), `${this.key}: occupancy promises [${x.start}, ${x.end})`).toBe(true);
    }
  }
  toString = () => `get(${this.key}, g${this.granule}+${this.granules})`;
}

class EvictCmd implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const km = keyModel(m, this.key);
    await (await objOf(r, this.key)).invalidate('write-error');
    km.known.fill(0);
    km.pending = [];
  }
  toString = () => `evict(${this.key})`;
}

class StageCmd implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly on: boolean) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await (await objOf(r, this.key)).setStaging(this.on);
    keyModel(m, this.key).staging = this.on;
  }
  toString = () => `stage(${this.key}, ${this.on})`;
}

/** A staged download cut short: staging on, [0, cut) collected, the next blocks written, not collected. */
class StagedDownloadCmd implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: string, readonly granules: number, readonly seed: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await new StageCmd(this.key, true).run(m, r);
    const cutBlock = (this.granules * GR) / BS;
    await new PutCmd(this.key, 0, cutBlock, this.seed, true).run(m, r);
    await new PutCmd(this.key, cutBlock, 4, this.seed + 1, false).run(m, r);
  }
  toString = () => `stagedDownload(${this.key}, ${this.granules} granules, #${this.seed})`;
}

class CrashCmd implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.store.abandonForTesting();
    r.crashes++;
    r.objs.clear();
    await expectIndexAgrees(r.dir);
    for (const km of m.keys.values()) {
      if (km.pending.length > 0 && !km.staging) km.known.fill(0);
      if (km.pending.length > 0 && km.staging && km.known.some((k) => k === 1)) r.stagedCrashes++;
      km.pending = [];
    }
    r.store = await CacheStore.open(r.dir, OPTS);
  }
  toString = () => 'crash';
}

class ReopenCmd implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.store.close();
    r.objs.clear();
    await expectIndexAgrees(r.dir);
    for (const km of m.keys.values()) km.pending = [];
    r.store = await CacheStore.open(r.dir, OPTS);
  }
  toString = () => 'reopen';
}

const keyArb = fc.constantFrom(...KEYS);
const p5Commands = [
  fc
    .record({
      key: keyArb,
      block: fc.oneof(fc.integer({ min: 0, max: BLOCKS - 1 }), fc.integer({ min: 0, max: GRANULES - 1 }).map((g) => (g * GR) / BS)),
      blocks: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(4, 8, 16, BLOCKS)),
      seed: fc.integer({ min: 1, max: 250 }),
      collect: fc.oneof(fc.constant(true), fc.constant(true), fc.boolean()),
    })
    .map((p) => new PutCmd(p.key, p.block, p.blocks, p.seed, p.collect)),
  // A whole object in one put (a download's worth), so gets have something to hit.
  fc.record({ key: keyArb, seed: fc.integer({ min: 1, max: 250 }) }).map((p) => new PutCmd(p.key, 0, BLOCKS, p.seed, true)),
  keyArb.map((k) => new CollectCmd(k)),
  fc.record({ key: keyArb, granule: fc.integer({ min: 0, max: GRANULES - 1 }), granules: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })) }).map((p) => new GetCmd(p.key, p.granule, p.granules)),
  fc.record({ key: keyArb, granule: fc.integer({ min: 0, max: GRANULES - 1 }), granules: fc.constant(1) }).map((p) => new GetCmd(p.key, p.granule, p.granules)),
  keyArb.map((k) => new EvictCmd(k)),
  fc.record({ key: keyArb, on: fc.oneof(fc.constant(true), fc.boolean()) }).map((p) => new StageCmd(p.key, p.on)),
  fc.record({ key: keyArb, granules: fc.integer({ min: 1, max: GRANULES - 2 }), seed: fc.integer({ min: 1, max: 250 }) }).map((p) => new StagedDownloadCmd(p.key, p.granules, p.seed)),
  fc.constant(new CrashCmd()),
  fc.constant(new CrashCmd()),
  fc.constant(new ReopenCmd()),
];

describe('P5: a command model of put / get / evict / crash / reopen against the real store', () => {
  it('get gives the last collected bytes or a miss, never partial or foreign; a crash never leaves the index pointing at a missing or short file', { timeout: 60_000 }, async () => {
    let hits = 0;
    let misses = 0;
    let crashes = 0;
    let stagedCrashes = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(p5Commands, { maxCommands: 40 }), async (cmds) => {
        const { dir, cleanup } = await tempCacheDir();
        const real: Real = { dir, store: await CacheStore.open(dir, OPTS), objs: new Map(), hits: 0, misses: 0, crashes: 0, stagedCrashes: 0 };
        const model: Model = { keys: new Map() };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          // A last crash, then every granule of every key: what survived is served, and right.
          await new CrashCmd().run(model, real);
          for (const key of KEYS) for (let g = 0; g < GRANULES; g++) await new GetCmd(key, g, 1).run(model, real);
        } finally {
          hits += real.hits;
          misses += real.misses;
          crashes += real.crashes - 1; // not counting the last one
          stagedCrashes += real.stagedCrashes;
          await real.store.close();
          await cleanup();
        }
      }),
      { numRuns: 50 },
    );
    console.log(`P5: ${hits} hits, ${misses} misses, ${crashes} crashes (${stagedCrashes} of a staging object mid-write)`);
    expect(hits).toBeGreaterThan(20);
    expect(misses).toBeGreaterThan(20);
    expect(crashes).toBeGreaterThan(20);
    expect(stagedCrashes).toBeGreaterThan(3);
  });
});

// L5 (test-scenarios.md §6.1, issue 5 item 10): one 1 GiB file up and down through a whole
// `netfs-sync sync --once` (a real child process, real Apache), hash checked end to end, and
// the child's RSS sampled from /proc/<pid>/status every 100 ms stays flat during the transfer.
//
//   local 1 GiB ──sync --once (child)──PUT──> Apache      sha256 of the server's file
//   Apache 1 GiB (replaced server-side) ──GET──> local      sha256 of the local file
//                 RSS: peak − RSS when the transfer began  < 100 MB  (the scenario's proposal)
//
// "When the transfer began" is the first sample taken once its bytes show up on disk: Apache's
// upload temp file (.davfs.tmp*) in the account's folder, or a staged download in the state
// folder growing by a MiB. The deadlines are liveness bounds, not throughput checks; the wall times are printed.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open, readFile, readdir, rename, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApache, type ApacheServer } from '../testing/index.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { account, leftovers, stagingLeftovers, type ScenarioAccount } from './scenario-kit.js';
import { spawnCli } from './testing.js';

let apache: ApacheServer;
let temp: TempDir;

beforeAll(async () => {
  apache = await startApache();
  temp = await makeTempDir('netfs-scen-l5-');
});
afterAll(async () => {
  await apache.stop();
  await temp.remove();
});

const GiB = 1 << 30;
const MB = 1_000_000;
const BLOCK = 16 << 20;

/** Writes `size` bytes of seeded-looking random data (each 16 MiB block made distinct) to `path`; returns its sha256. */
async function writeBig(path: string, size: number, tag: number): Promise<string> {
  const pool = randomBytes(BLOCK);
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    for (let at = 0, i = 0; at < size; at += BLOCK, i++) {
      pool.writeUInt32BE(tag, 0);
      pool.writeUInt32BE(i, 4);
      const chunk = pool.subarray(0, Math.min(BLOCK, size - at));
      hash.update(chunk);
      await fh.write(chunk, 0, chunk.length, at);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Bytes of the regular files below `dir` (the cache's staged download grows in the state folder). */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (e.isFile()) total += await stat(join(e.parentPath, e.name)).then((s) => s.size, () => 0);
  }
  return total;
}

/** VmRSS of a process in bytes, or null once it is gone. */
async function rssOf(pid: number): Promise<number | null> {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

interface SyncRun {
  code: number | null;
  stderr: string;
  wallMs: number;
  /** RSS when the transfer was first seen, the peak after it, and the peak over the whole run. */
  startRss: number | null;
  /** ms after the spawn when the transfer was first seen; the first RSS sample of the child. */
  startAtMs: number | null;
  firstRss: number | null;
  peakRss: number;
  samples: number;
}

/** `sync --once` as a child; RSS sampled every 100 ms; `started()` says whether the transfer's bytes are on disk yet. */
async function syncSampled(a: ScenarioAccount, started: () => Promise<boolean>, deadlineMs: number): Promise<SyncRun> {
  const t0 = Date.now();
  const child = spawnCli(['sync', '--once', '--state', a.state]);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = once(child, 'exit');
  let done = false;
  void exited.then(() => (done = true));
  const pid = child.pid ?? -1;
  let startRss: number | null = null;
  let startAtMs: number | null = null;
  let firstRss: number | null = null;
  let peakRss = 0;
  let samples = 0;
  const killer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  try {
    while (!done) {
      const rss = await rssOf(pid);
      if (rss !== null && !done) {
        samples++;
        firstRss ??= rss;
        if (startRss === null && (await started())) {
          startRss = rss;
          startAtMs = Date.now() - t0;
        }
        if (startRss !== null) peakRss = Math.max(peakRss, rss);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    clearTimeout(killer);
  }
  const [code] = (await exited) as [number | null];
  return { code, stderr, wallMs: Date.now() - t0, startRss, startAtMs, firstRss, peakRss, samples };
}

const mb = (n: number | null): string => (n === null ? 'n/a' : `${(n / MB).toFixed(1)} MB`);

describe('L5: one 1 GiB file up and down through a whole sync', () => {
  it('L5: 1 GiB up (server sha256 equal) and down (local sha256 equal) through `sync --once` children; RSS grows < 100 MB during each transfer', async () => {
    const a = await account({ server: apache, work: temp.path });
    const file = 'big.bin';

    // Up.
    const tw = Date.now();
    const upHash = await writeBig(join(a.local, file), GiB, 1);
    console.log(`L5: wrote 1 GiB locally in ${Date.now() - tw} ms`);
    const uploading = async (): Promise<boolean> => (await readdir(a.remoteDir)).some((n) => n.startsWith('.davfs.tmp') || n === file);
    const up = await syncSampled(a, uploading, 240_000);
    console.log(`L5 up: exit ${up.code} in ${up.wallMs} ms; first RSS ${mb(up.firstRss)}; transfer seen at ${up.startAtMs} ms, RSS then ${mb(up.startRss)}, peak ${mb(up.peakRss)} (+${mb(up.peakRss - (up.startRss ?? 0))}), ${up.samples} samples`);
    expect(up.code, up.stderr).toBe(0);
    expect(await sha256File(join(a.remoteDir, file))).toBe(upHash);
    expect(up.startRss, 'the upload was never seen under way').not.toBeNull();
    expect(up.peakRss - (up.startRss ?? 0)).toBeLessThan(100 * MB);

    // Down: the server's copy replaced by another 1 GiB (straight into Apache's folder, an
    // older mtime so its ETag is strong).
    const serverPath = join(a.remoteDir, file);
    const downHash = await writeBig(`${serverPath}.new`, GiB, 2);
    await apache.fixOwnership();
    const old = new Date(Date.now() - 60_000);
    await utimes(`${serverPath}.new`, old, old);
    await rename(`${serverPath}.new`, serverPath);
    const stateBytes = await bytesUnder(a.state);
    const downloading = async (): Promise<boolean> => (await bytesUnder(a.state)) > stateBytes + (1 << 20);
    const down = await syncSampled(a, downloading, 240_000);
    console.log(`L5 down: exit ${down.code} in ${down.wallMs} ms; first RSS ${mb(down.firstRss)}; transfer seen at ${down.startAtMs} ms, RSS then ${mb(down.startRss)}, peak ${mb(down.peakRss)} (+${mb(down.peakRss - (down.startRss ?? 0))}), ${down.samples} samples`);
    expect(down.code, down.stderr).toBe(0);
    expect(await sha256File(join(a.local, file))).toBe(downHash);
    expect(down.startRss, 'the download was never seen under way').not.toBeNull();
    expect(down.peakRss - (down.startRss ?? 0)).toBeLessThan(100 * MB);

    // Converged, nothing left behind.
    expect(await leftovers(a.local)).toEqual([]);
    expect(await leftovers(a.remoteDir)).toEqual([]);
    expect(await stagingLeftovers(a.state)).toEqual([]);
  }, 600_000);
});

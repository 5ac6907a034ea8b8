/**
 * What the sync rows share (cases/small-files.ts, mib-down.ts, upload.ts, noop-resync.ts):
 *
 *   trees       writeTree: N files of a size in folders of M (random bytes, or a short text);
 *               treeCheck: every file's relative path, size and CRC32 (the client's top-level
 *               .netfs* names left out); sameTree: two checks equal, or what differs
 *   ours        runSyncOnce: ours-cli.js in its own process (as ours.ts runs a child, with a
 *               longer timeout; init untimed, then `netfs-sync sync --once` timed in-process)
 *   rclone      config-less: a remote of type webdav given in the environment
 *               (RCLONE_CONFIG_BENCH_*; the password obscured, never on a command line)
 *   curl        one process, `--parallel --parallel-max 8`, every URL and output in a config file
 *   Apache      serverFence: a HEAD of our own, waited for in the access log, so a count of the
 *               requests logged between two fences is exact
 */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { randomFillSync } from 'node:crypto';
import { basicAuth, httpRequest } from '../testing/http-client.js';
import type { AccessLogEntry, ApacheServer } from '../testing/apache.js';
import { type ChildResult, describeFailure, lastJsonLine, runChild } from './child.js';
import type { OursReport, OursRun } from './ours.js';
import type { BenchContext } from './types.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;
const RCLONE = '/usr/bin/rclone';
const CURL = '/usr/bin/curl';

export interface TreeSpec {
  files: number;
  /** Files per folder (folders d0, d1, …). */
  perFolder: number;
  size: number;
}

/** Writes the tree under `root` (random bytes per file), in batches. */
export async function writeTree(root: string, spec: TreeSpec): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < spec.files; i++) {
    const dir = join(root, `d${Math.floor(i / spec.perFolder)}`);
    if (i % spec.perFolder === 0) await mkdir(dir, { recursive: true });
    const bytes = Buffer.allocUnsafe(spec.size);
    randomFillSync(bytes);
    pending.push(writeFile(join(dir, `f${i}.bin`), bytes));
    if (pending.length >= 256) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

export type TreeCheck = Map<string, { size: number; crc32: number }>;

async function fileCrc(path: string, size: number): Promise<number> {
  let crc = 0;
  if (size === 0) return crc;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) crc = crc32(chunk as Buffer, crc);
  return crc;
}

/** Every file below `root` with its size and CRC32 (top-level .netfs* names are the client's own: left out). */
export async function treeCheck(root: string): Promise<TreeCheck> {
  const out: TreeCheck = new Map();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      if (rel === '' && d.name.startsWith('.netfs')) continue;
      const path = join(dir, d.name);
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) await walk(path, r);
      else if (d.isFile()) {
        const { size } = await stat(path);
        out.set(r, { size, crc32: await fileCrc(path, size) });
      }
    }
  };
  await walk(root, '');
  return out;
}

/** null when `got` has exactly the files of `want` with the same bytes, else what differs. */
export function sameTree(got: TreeCheck, want: TreeCheck): string | null {
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  const differ = [...want].filter(([k, v]) => got.has(k) && (got.get(k)!.size !== v.size || got.get(k)!.crc32 !== v.crc32)).map(([k]) => k);
  if (missing.length + extra.length + differ.length === 0) return null;
  const list = (xs: string[]): string => `${xs.length}${xs.length > 0 ? ` (${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ', …' : ''})` : ''}`;
  return `trees differ: missing ${list(missing)}, extra ${list(extra)}, different ${list(differ)}`;
}

/** Removes and re-creates a folder, then lets the disk settle (untimed). */
export async function freshDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await runChild({ command: 'sync', args: ['-f', dir] });
}

/**
 * One run of ours: a fresh state folder, `init` (untimed) against `remotePath` below the
 * server's root URL with `local` as the sync folder, then the timed `sync --once`.
 */
export async function runSyncOnce(
  ctx: BenchContext,
  o: { state: string; local: string; remotePath: string; init: boolean; timeoutMs?: number },
): Promise<OursRun> {
  const { server } = ctx;
  const args = ['--state', o.state, '--local', o.local, '--remote-path', o.remotePath, ...(o.init ? ['--init'] : [])];
  const child = await runChild({
    command: process.execPath,
    args: [join(ctx.benchDir, 'ours-cli.js'), '--url', server.url, '--user', server.user, ...args],
    env: { NETFS_BENCH_PASSWORD: server.password },
    // A first sync of 50,000 files (noop_resync's setup) takes minutes on a busy machine.
    timeoutMs: o.timeoutMs ?? 1_800_000,
  });
  const report = lastJsonLine<OursReport>(child.stdout);
  let failure: string | null = null;
  if (report === null) failure = `no report (${describeFailure(child)})`;
  else if (!report.ok) failure = report.error ?? 'failed without a reason';
  else if (child.code !== 0) failure = describeFailure(child);
  return { report, child, failure };
}

/** rclone's obscured form of a password (read from stdin, so it never shows in `ps`). */
function rcloneObscure(password: string): string {
  const r = spawnSync(RCLONE, ['obscure', '-'], { input: password, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rclone obscure failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

export interface Rclone {
  /** The environment that defines the remote `bench:` (for running rclone some other way). */
  readonly env: Record<string, string>;
  /** `rclone <args…>` with the remote `bench:` (the server's DAV root) defined in the environment. */
  run(args: string[]): Promise<ChildResult>;
}

export function rcloneFromEnv(server: ApacheServer, home: string): Rclone {
  const env = {
    RCLONE_CONFIG_BENCH_TYPE: 'webdav',
    RCLONE_CONFIG_BENCH_URL: server.url,
    RCLONE_CONFIG_BENCH_VENDOR: 'other',
    RCLONE_CONFIG_BENCH_USER: server.user,
    RCLONE_CONFIG_BENCH_PASS: rcloneObscure(server.password),
    // No config file: everything is above. Its cache and lock files (if any) go to the scratch folder.
    RCLONE_CONFIG: join(home, 'rclone-none.conf'),
    HOME: home,
    XDG_CACHE_HOME: home,
    XDG_CONFIG_HOME: home,
  };
  return { env, run: (args) => runChild({ command: RCLONE, args, env, timeoutMs: 900_000 }) };
}

/** curl fetching `paths` (relative to the server's root URL) into `outDir`, 8 at a time, in one process. */
export async function curlParallel(server: ApacheServer, configDir: string, paths: readonly string[], outDir: string): Promise<ChildResult> {
  const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const auth = join(configDir, 'curl-auth.conf');
  await writeFile(auth, `user = ${quote(`${server.user}:${server.password}`)}\n`, { mode: 0o600 });
  const list = join(configDir, 'curl-list.conf');
  const lines: string[] = [];
  for (const p of paths) {
    lines.push(`url = ${quote(new URL(p.split('/').map(encodeURIComponent).join('/'), server.url).href)}`);
    lines.push(`output = ${quote(join(outDir, p))}`);
  }
  await writeFile(list, `${lines.join('\n')}\n`, { mode: 0o600 });
  return runChild({ command: CURL, args: ['-sS', '--fail', '--create-dirs', '--parallel', '--parallel-max', '8', '-K', auth, '-K', list] });
}

/** A HEAD of our own, waited for in the access log: everything logged before it is in the returned list. */
export async function serverFence(server: ApacheServer): Promise<AccessLogEntry[]> {
  const heads = (es: AccessLogEntry[]): number => es.filter((e) => e.method === 'HEAD').length;
  const before = heads(server.accessLog());
  await httpRequest({ url: new URL(server.url), method: 'HEAD', headers: { Authorization: basicAuth(server.user, server.password) } });
  return server.waitForAccessLog((es) => heads(es) > before, 5_000);
}

/** Keeps the best (smallest) time per side. */
export class Best {
  private readonly times = new Map<string, number>();
  keep(side: string, s: number): void {
    this.times.set(side, Math.min(this.times.get(side) ?? Infinity, s));
  }
  get(side: string): number | null {
    return this.times.get(side) ?? null;
  }
}

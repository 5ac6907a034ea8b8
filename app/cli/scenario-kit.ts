/**
 * Test kit for the scenario suites (test-scenarios.md ids): accounts against a real server
 * (Apache, rclone serve, a fault proxy in front of either), tree manifests for the common
 * oracle, and leftovers checks.
 *
 *   account({ server, via?, files? })
 *     server folder <id>/ --(files written straight into the server's data folder)
 *     state folder (initStateFolder, as `init` makes it) + capabilities.json from one real
 *     probe per server URL (the probe costs over a second on Apache; `init` is tested apart)
 *     -> { state, local, remoteDir, run(...) in-process, proc(...) child process }
 *
 *   manifest(dir) -> Map<relative path, sha256>   (top-level `.netfs*` names left out)
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Capabilities } from '../api/remote.js';
import { STAGING_DIR } from '../cache/layout.js';
import { createWebdavBackend } from '../remote/webdav/backend.js';
import { CAPABILITIES_FILE } from '../sync/capabilities-cache.js';
import { CACHE_DIR, initStateFolder } from '../sync/state-folder.js';
import type { DavServer } from '../testing/index.js';
import { cli, cliProcess, type CliRun } from './testing.js';

export interface ScenarioAccount {
  id: string;
  state: string;
  local: string;
  /** The folder on the server's disk behind the account's remote folder. */
  remoteDir: string;
  remoteUrl: string;
  /** `netfs-sync <args> --state <state>` in this process. */
  run(...args: string[]): Promise<CliRun>;
  /** The same as a child process. */
  proc(...args: string[]): Promise<CliRun>;
  /** Writes a file on the server side (straight into its data folder), its mtime `ageMs` in the past (strong ETags on Apache). */
  serverWrite(path: string, data: string | Uint8Array, ageMs?: number): Promise<void>;
  serverRead(path: string): Promise<Buffer>;
  /** Writes a file in the sync folder, its mtime `ageMs` in the past (default: now). */
  localWrite(path: string, data: string | Uint8Array, ageMs?: number): Promise<void>;
}

const probed = new Map<string, Promise<Capabilities>>();

/** The server's capabilities, probed once per DAV root URL (through the same proxy, if any). */
function capabilitiesOf(davRoot: string, server: DavServer): Promise<Capabilities> {
  let p = probed.get(davRoot);
  if (p === undefined) {
    p = (async () => {
      const backend = createWebdavBackend({ url: davRoot, user: server.user, password: server.password });
      try {
        return await backend.capabilities({ refresh: true });
      } finally {
        await backend.close();
      }
    })();
    probed.set(davRoot, p);
  }
  return p;
}

let counter = 0;

export interface AccountOptions {
  server: DavServer;
  /** Work folder holding state and local folders. */
  work: string;
  /** The DAV root the client talks to (a fault proxy's URL); default the server's. */
  davRoot?: string;
  /** Files on the server before the first sync (path relative to the account's folder). */
  files?: Record<string, string | Uint8Array>;
  /** Where the sync folder goes (default `<work>/<id>-local`). */
  local?: string;
  /** Skip the shared probe: the session probes by itself (a server that behaves unlike the cached one). */
  probe?: 'shared' | 'own';
}

export async function account(o: AccountOptions): Promise<ScenarioAccount> {
  const id = `s${process.pid}-${++counter}`;
  await o.server.mkdir(id);
  const davRoot = o.davRoot ?? o.server.url;
  const remoteUrl = `${davRoot}${id}/`;
  const remoteDir = o.server.pathOf(id);
  const serverWrite = async (p: string, data: string | Uint8Array, ageMs = 10_000): Promise<void> => {
    const file = await o.server.writeFile(`${id}/${p}`, data);
    const t = new Date(Date.now() - ageMs);
    await utimes(file, t, t);
  };
  for (const [p, data] of Object.entries(o.files ?? {})) await serverWrite(p, data);
  const state = join(o.work, `${id}-state`);
  const local = o.local ?? join(o.work, `${id}-local`);
  await initStateFolder(state, { remote: remoteUrl, local, user: o.server.user, password: o.server.password });
  if (o.probe !== 'own') {
    const capabilities = await capabilitiesOf(davRoot, o.server);
    await writeFile(join(state, CAPABILITIES_FILE), JSON.stringify({ remote: remoteUrl, probedAt: Date.now(), capabilities }), { mode: 0o600 });
  }
  return {
    id,
    state,
    local,
    remoteDir,
    remoteUrl,
    run: (...args) => cli([...args, '--state', state]),
    proc: (...args) => cliProcess([...args, '--state', state]),
    serverWrite,
    serverRead: (p) => readFile(join(remoteDir, p)),
    localWrite: async (p, data, ageMs = 0) => {
      const file = join(local, p);
      await mkdir(join(file, '..'), { recursive: true });
      // Through a temp name: an editor's atomic save, so a reader never sees half a file.
      const tmp = join(local, `.netfs-kit-${process.pid}-${++counter}`);
      await writeFile(tmp, data);
      const t = new Date(Date.now() - ageMs);
      if (ageMs !== 0) await utimes(tmp, t, t);
      await rename(tmp, file);
    },
  };
}

/** sha256 of every file below `dir`, by path relative to it; top-level `.netfs*` names and `skip` left out. */
export async function manifest(dir: string, skip: (rel: string) => boolean = () => false): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (rel === '' && e.name.startsWith('.netfs')) continue;
      if (skip(r)) continue;
      const p = join(abs, e.name);
      if (e.isDirectory()) await walk(p, r);
      else if (e.isSymbolicLink()) out.set(r, `symlink`);
      else out.set(r, createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk(dir, '');
  return out;
}

/** Every path below `dir` (files, folders, symlinks, relative), sorted; symlinks are not followed. */
export async function allPaths(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      out.push(r);
      if (e.isDirectory()) await walk(join(abs, e.name), r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** Names below `dir` that a crash or a transfer may leave behind: partial copies and Apache's upload temp files. */
export async function leftovers(dir: string): Promise<string[]> {
  return (await allPaths(dir)).filter((p) => /(^|\/)(\.netfs-partial-|\.davfs\.tmp|\.netfs-kit-)/.test(p));
}

/** Files in the staging areas (downloads in progress): the state folder's, and the cache's small-download folder of every volume. */
export async function stagingLeftovers(state: string): Promise<string[]> {
  const out = (await readdir(join(state, 'staging')).catch(() => [] as string[])).map((n) => `staging/${n}`);
  const cacheStaging = join(state, CACHE_DIR, STAGING_DIR);
  for (const volume of await readdir(cacheStaging).catch(() => [] as string[])) {
    for (const n of await readdir(join(cacheStaging, volume)).catch(() => [] as string[])) out.push(`${CACHE_DIR}/${STAGING_DIR}/${volume}/${n}`);
  }
  return out;
}

export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** The two manifests as sorted [path, hash] lists, for a readable toEqual. */
export function entriesOf(m: Map<string, string>): [string, string][] {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

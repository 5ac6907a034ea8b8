/**
 * The demo profile (`npm run demo`, issue 7 item 5): a local-folder account whose "remote" is
 * a copy of resources/demo, so the app syncs something real with no server.
 *
 *   $NETFS_DEMO_DIR, else $XDG_DATA_HOME/netfs-sync/demo, else ~/.local/share/netfs-sync/demo
 *     remote/   the demo files (copied from resources/demo the first time)
 *     state/    the state folder: account file:///…/remote -> Sync/
 *     Sync/     the sync folder
 *
 * Made once: a profile with an account is used as it is (edits made in it stay).
 */
import { cp, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NetfsError } from '../api/errors.js';
import { ACCOUNT_FILE, initStateFolder } from '../sync/state-folder.js';
import { repoRoot } from './repo-root.js';

export interface DemoProfile {
  dir: string;
  remote: string;
  state: string;
  local: string;
  /** True when this call made it. */
  created: boolean;
}

export function demoDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env['NETFS_DEMO_DIR'] !== undefined && env['NETFS_DEMO_DIR'] !== '') return resolve(env['NETFS_DEMO_DIR']);
  const data = env['XDG_DATA_HOME'] !== undefined && env['XDG_DATA_HOME'] !== '' ? env['XDG_DATA_HOME'] : join(env['HOME'] ?? homedir(), '.local', 'share');
  return join(resolve(data), 'netfs-sync', 'demo');
}

export function demoSource(): string {
  return join(repoRoot(), 'resources', 'demo');
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null)) !== null;
}

export async function ensureDemoProfile(env: Readonly<Record<string, string | undefined>>, source = demoSource()): Promise<DemoProfile> {
  const dir = demoDir(env);
  const profile = { dir, remote: join(dir, 'remote'), state: join(dir, 'state'), local: join(dir, 'Sync') };
  if (await exists(join(profile.state, ACCOUNT_FILE))) return { ...profile, created: false };
  if (!(await exists(source))) throw new NetfsError('NOT_FOUND', `the demo files are missing: ${source}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!(await exists(profile.remote))) await cp(source, profile.remote, { recursive: true, preserveTimestamps: true });
  await initStateFolder(profile.state, { remote: pathToFileURL(profile.remote).href, local: profile.local });
  return { ...profile, created: true };
}

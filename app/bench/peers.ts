/**
 * The programs we compare against, each run as its own child process with default flags and
 * timed around the process (their start-up included, as a user would wait for it):
 *
 *   curl    curl -sS --fail -K <config: user = "u:p"> -o <out>/<name> <url>    one GET
 *   rclone  rclone copy --config <conf> bench:<name> <out>                     webdav remote, vendor other
 *   cat     cat <server's data file> > <out>/<name>                            local copy, no network
 *
 * Credentials live in files of mode 0600 in a private folder, never on a command line.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ApacheServer } from '../testing/apache.js';
import { type ChildResult, runChild } from './child.js';
import type { PeerName } from './types.js';

export interface Peer {
  readonly name: PeerName;
  /** Downloads the remote file `remote` ('big.bin') into `outDir`/basename(remote). */
  download(remote: string, outDir: string): Promise<ChildResult>;
}

const CURL = '/usr/bin/curl';
const RCLONE = '/usr/bin/rclone';

/** A value inside double quotes in a curl config file. */
function curlQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function remoteUrl(server: ApacheServer, remote: string): string {
  return new URL(remote.split('/').map(encodeURIComponent).join('/'), server.url).toString();
}

export async function curlPeer(server: ApacheServer, configDir: string): Promise<Peer> {
  const config = join(configDir, 'curl.conf');
  await writeFile(config, `user = ${curlQuote(`${server.user}:${server.password}`)}\n`, { mode: 0o600 });
  return {
    name: 'curl',
    download: (remote, outDir) =>
      runChild({ command: CURL, args: ['-sS', '--fail', '-K', config, '-o', join(outDir, basename(remote)), remoteUrl(server, remote)] }),
  };
}

/** rclone's obscured form of a password (read from stdin, so it never shows in `ps`). */
function rcloneObscure(password: string): string {
  const r = spawnSync(RCLONE, ['obscure', '-'], { input: password, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rclone obscure failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

export async function rclonePeer(server: ApacheServer, configDir: string): Promise<Peer> {
  const config = join(configDir, 'rclone.conf');
  const text = [
    '[bench]',
    'type = webdav',
    `url = ${server.url}`,
    'vendor = other',
    `user = ${server.user}`,
    `pass = ${rcloneObscure(server.password)}`,
    '',
  ].join('\n');
  await writeFile(config, text, { mode: 0o600 });
  return {
    name: 'rclone',
    download: (remote, outDir) =>
      runChild({
        command: RCLONE,
        args: ['copy', '--config', config, `bench:${remote}`, outDir],
        // Its cache and lock files (if any) go to the scratch folder, not the user's home.
        env: { HOME: configDir, XDG_CACHE_HOME: configDir, XDG_CONFIG_HOME: configDir },
      }),
  };
}

export function catPeer(server: ApacheServer): Peer {
  return {
    name: 'cat',
    download: (remote, outDir) =>
      runChild({ command: 'sh', args: ['-c', 'exec cat -- "$1" > "$2"', 'cat', server.pathOf(remote), join(outDir, basename(remote))] }),
  };
}

export async function makePeer(name: PeerName, server: ApacheServer, configDir: string): Promise<Peer> {
  switch (name) {
    case 'curl':
      return curlPeer(server, configDir);
    case 'rclone':
      return rclonePeer(server, configDir);
    case 'cat':
      return catPeer(server);
  }
}

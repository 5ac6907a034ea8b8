// Starts a real `rclone serve webdav` (the quirkier second server) on a free 127.0.0.1 port,
// serving a fresh temp data folder at the root path '/', with an empty private config so it
// never reads the user's rclone.conf.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { assembleDavServer } from './dav-server-object.js';
import type { DavServer } from './dav-server.js';
import { createServerLifecycle } from './server-lifecycle.js';
import { spawnServerProcess } from './server-process.js';
import { makeTempDir } from './temp-dir.js';

export interface RcloneServeOptions {
  user?: string;
  password?: string;
  /** rclone's --baseurl, e.g. '/dav'. Default '' (served at '/'). */
  baseUrl?: string;
  /**
   * --dir-cache-time. Default '0s' so files written straight into dataDir show up in the next
   * listing (rclone's own default, 5m, hides them for five minutes).
   */
  dirCacheTime?: string;
  /** --log-level: DEBUG, INFO, NOTICE (default), ERROR. */
  logLevel?: string;
  /** More flags, e.g. ['--etag-hash', 'MD5']. */
  extraArgs?: readonly string[];
  /** How long to wait for it to serve. Default 20 s. */
  readyTimeoutMs?: number;
}

export interface RcloneServer extends DavServer {
  readonly kind: 'rclone';
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The environment without RCLONE_* variables, which would change rclone's flags. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('RCLONE_')) env[key] = value;
  }
  return env;
}

export async function startRcloneServe(options: RcloneServeOptions = {}): Promise<RcloneServer> {
  const rclone = requireBinary('rclone', 'rclone');
  const user = options.user ?? 'netfs';
  const password = options.password ?? 'netfs-test-password';
  const baseUrl = (options.baseUrl ?? '').replace(/^\/+|\/+$/g, '');
  const temp = await makeTempDir('netfs-rclone-');
  const tempDir = temp.path;
  const dataDir = join(tempDir, 'data');
  const configFile = join(tempDir, 'rclone.conf');
  const logFile = join(tempDir, 'rclone.log');
  await mkdir(dataDir);
  await writeFile(configFile, '');
  const davUrl = (port: number): string => `http://127.0.0.1:${port}/${baseUrl === '' ? '' : `${baseUrl}/`}`;

  const lifecycle = createServerLifecycle({
    name: 'rclone serve webdav',
    user,
    password,
    davUrl,
    readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    stopGraceMs: 5_000,
    logText: () => readIfExists(logFile),
    launch(port) {
      const args = [
        'serve', 'webdav', dataDir,
        '--addr', `127.0.0.1:${port}`,
        '--user', user,
        '--pass', password,
        '--config', configFile,
        '--dir-cache-time', options.dirCacheTime ?? '0s',
        '--log-file', logFile,
        '--log-level', options.logLevel ?? 'NOTICE',
        ...(baseUrl === '' ? [] : ['--baseurl', `/${baseUrl}`]),
        ...(options.extraArgs ?? []),
      ];
      return spawnServerProcess({ command: rclone, args, env: cleanEnv(), cwd: tempDir });
    },
  });

  try {
    await lifecycle.startOnFreePort();
  } catch (err) {
    await temp.remove();
    throw err;
  }

  return assembleDavServer(
    {
      kind: 'rclone',
      name: 'rclone serve webdav',
      url: davUrl(lifecycle.port),
      user,
      password,
      dataDir,
      tempDir: temp,
      // rclone runs as the test's own user: nothing to hand over.
      owner: null,
      lifecycle,
      logText: () => readIfExists(logFile),
    },
    {},
  );
}

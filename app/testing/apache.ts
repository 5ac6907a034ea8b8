// Starts a real Apache httpd with mod_dav on a free 127.0.0.1 port, from a generated config in
// a fresh temp folder (see apache-config.ts), as a child process in the foreground. As root,
// the workers run as www-data and own the data and lock folders.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAccessLog, waitForAccessLog } from './apache-access-log.js';
import type { AccessLogEntry } from './apache-access-log.js';
import { apacheConfig } from './apache-config.js';
import { requireBinary } from './binaries.js';
import { assembleDavServer } from './dav-server-object.js';
import type { DavServer } from './dav-server.js';
import { createServerLifecycle } from './server-lifecycle.js';
import { spawnServerProcess } from './server-process.js';
import { makeTempDir } from './temp-dir.js';
import { isRoot, lookupSystemUser } from './system-user.js';

export type { AccessLogEntry } from './apache-access-log.js';

export interface ApacheOptions {
  user?: string;
  password?: string;
  /** URL path of the DAV root, without trailing slash. Default '/dav'. */
  davPath?: string;
  /** Apache LogLevel, e.g. 'warn' (default), 'debug', 'warn dav:debug'. */
  logLevel?: string;
  /** Appended to the generated config (later directives win). */
  extraConfig?: string;
  /** How long to wait for it to serve. Default 20 s. */
  readyTimeoutMs?: number;
}

export interface ApacheServer extends DavServer {
  readonly kind: 'apache';
  readonly configFile: string;
  /**
   * Every request Apache has logged so far, oldest first. Apache logs a request just after
   * sending its response, so the last one may be missing for a moment: see waitForAccessLog.
   */
  accessLog(): AccessLogEntry[];
  /** Polls the access log until `until(entries)` holds (default deadline 2 s); returns the entries or throws. */
  waitForAccessLog(until: (entries: AccessLogEntry[]) => boolean, timeoutMs?: number): Promise<AccessLogEntry[]>;
}

const APACHE_BIN = '/usr/sbin/apache2';
const MODULES_DIR = '/usr/lib/apache2/modules';

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

export async function startApache(options: ApacheOptions = {}): Promise<ApacheServer> {
  const apache2 = existsSync(APACHE_BIN) ? APACHE_BIN : requireBinary('apache2', 'apache2');
  const htpasswd = requireBinary('htpasswd', 'apache2-utils');
  const user = options.user ?? 'netfs';
  const password = options.password ?? 'netfs-test-password';
  const davPath = (options.davPath ?? '/dav').replace(/\/+$/, '');
  if (!davPath.startsWith('/')) throw new Error(`davPath must start with '/': ${davPath}`);
  const runAs = isRoot() ? lookupSystemUser('www-data') : null;
  if (isRoot() && runAs === null) throw new Error('apache2 refuses to run as root and there is no www-data account');

  const temp = await makeTempDir('netfs-apache-');
  const tempDir = temp.path;
  const dirs = {
    dataDir: join(tempDir, 'data'),
    lockDir: join(tempDir, 'lock'),
    runDir: join(tempDir, 'run'),
    logDir: join(tempDir, 'logs'),
  };
  const configFile = join(tempDir, 'httpd.conf');
  const htpasswdFile = join(tempDir, 'htpasswd');
  const errorLogFile = join(dirs.logDir, 'error.log');
  const accessLogFile = join(dirs.logDir, 'access.log');

  try {
    for (const dir of Object.values(dirs)) await mkdir(dir);
    // The workers (www-data) must reach the data folder through the temp folder.
    await chmod(tempDir, 0o755);
    if (runAs !== null) {
      for (const dir of [dirs.dataDir, dirs.lockDir, dirs.runDir]) await chown(dir, runAs.uid, runAs.gid);
    }
    // SHA-1 (-s): checked on every request, and bcrypt or MD5 would cost real CPU in load tests.
    const made = spawnSync(htpasswd, ['-b', '-c', '-s', htpasswdFile, user, password], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`htpasswd failed (${made.status}): ${made.stderr}`);
    await chmod(htpasswdFile, 0o644);
  } catch (err) {
    await temp.remove();
    throw err;
  }

  const mimeTypesFile = existsSync('/etc/mime.types') ? '/etc/mime.types' : join(tempDir, 'mime.types');
  if (!existsSync(mimeTypesFile)) await writeFile(mimeTypesFile, '');
  const davUrl = (port: number): string => `http://127.0.0.1:${port}${davPath}/`;

  const lifecycle = createServerLifecycle({
    name: 'apache2',
    user,
    password,
    davUrl,
    readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    stopGraceMs: 8_000,
    logText: () => readIfExists(errorLogFile),
    launch(port) {
      const config = apacheConfig({
        tempDir,
        ...dirs,
        port,
        davPath,
        htpasswdFile,
        realm: 'netfs-sync test',
        runAs,
        modulesDir: MODULES_DIR,
        mimeTypesFile,
        logLevel: options.logLevel ?? 'warn',
        extraConfig: options.extraConfig ?? '',
      });
      writeFileSync(configFile, config);
      return spawnServerProcess({
        command: apache2,
        args: ['-DFOREGROUND', '-f', configFile],
        env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
        cwd: tempDir,
      });
    },
  });

  try {
    await lifecycle.startOnFreePort();
  } catch (err) {
    await temp.remove();
    throw err;
  }

  const extras: Pick<ApacheServer, 'configFile' | 'accessLog' | 'waitForAccessLog'> = {
    configFile,
    accessLog: () => readAccessLog(accessLogFile),
    waitForAccessLog: (until, timeoutMs) => waitForAccessLog(accessLogFile, until, timeoutMs),
  };

  return assembleDavServer(
    {
      kind: 'apache',
      name: 'apache2',
      url: davUrl(lifecycle.port),
      user,
      password,
      dataDir: dirs.dataDir,
      tempDir: temp,
      owner: runAs,
      lifecycle,
      logText: () => readIfExists(errorLogFile),
    },
    extras,
  );
}

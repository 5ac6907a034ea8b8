// Builds the DavServer object a test gets from a server lifecycle: the start/stop/restart
// controls, the URLs and the data-folder helpers, shared by apache.ts and rclone-serve.ts.
import { createDataHelpers } from './dav-server.js';
import type { DavServer } from './dav-server.js';
import { basicAuth } from './http-client.js';
import type { ServerLifecycle } from './server-lifecycle.js';
import type { SystemUser } from './system-user.js';
import type { TempDir } from './temp-dir.js';

export interface DavServerParts<K extends DavServer['kind']> {
  kind: K;
  name: string;
  url: string;
  user: string;
  password: string;
  dataDir: string;
  tempDir: TempDir;
  /** The account that must own files in dataDir, or null for the test's own. */
  owner: SystemUser | null;
  lifecycle: ServerLifecycle;
  /** The server's log file(s), read now. */
  logText: () => string;
}

export function assembleDavServer<K extends DavServer['kind'], E extends object>(
  parts: DavServerParts<K>,
  extras: E,
): DavServer & { readonly kind: K } & E {
  const { lifecycle } = parts;
  const running = (): boolean => lifecycle.process !== null && lifecycle.process.exitInfo() === null;
  let stopped = false;
  const ensureNotStopped = (what: string): void => {
    if (stopped) throw new Error(`${parts.name}: ${what} after stop()`);
  };
  const port = lifecycle.port;

  return {
    ...extras,
    kind: parts.kind,
    url: parts.url,
    origin: `http://127.0.0.1:${port}`,
    port,
    user: parts.user,
    password: parts.password,
    authorization: basicAuth(parts.user, parts.password),
    dataDir: parts.dataDir,
    tempDir: parts.tempDir.path,
    get pid() {
      return running() ? (lifecycle.process?.pid ?? null) : null;
    },
    isRunning: running,
    async stop() {
      if (stopped) return;
      stopped = true;
      await lifecycle.stop();
      await parts.tempDir.remove();
    },
    async stopServer() {
      ensureNotStopped('stopServer()');
      await lifecycle.stop();
    },
    async startServer() {
      ensureNotStopped('startServer()');
      await lifecycle.start();
    },
    async restart() {
      ensureNotStopped('restart()');
      await lifecycle.stop();
      await lifecycle.start();
    },
    errorLog: () => `${parts.logText()}${lifecycle.output()}`,
    ...createDataHelpers(parts.dataDir, parts.owner),
  };
}

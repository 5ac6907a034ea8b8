// What every real WebDAV test server (Apache mod_dav, rclone serve webdav) offers a test, and
// the helpers to put files straight into the folder behind its DAV root.
import { chown, lchown, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { SystemUser } from './system-user.js';

export interface DavServer {
  readonly kind: 'apache' | 'rclone';
  /** The DAV root, ending in '/': http://127.0.0.1:PORT/dav/ (Apache), http://127.0.0.1:PORT/ (rclone). */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** `Basic ...`, ready for an Authorization header. */
  readonly authorization: string;
  /** The folder on disk behind the DAV root. */
  readonly dataDir: string;
  /** The server's private temp folder (config, logs, locks); removed by stop(). */
  readonly tempDir: string;
  /** The pid of the running server process, or null while stopped. */
  readonly pid: number | null;
  isRunning(): boolean;
  /** Stop the process, wait for it, delete tempDir (data included). Idempotent. */
  stop(): Promise<void>;
  /** Stop the process only: the port refuses connections, the data stays. */
  stopServer(): Promise<void>;
  /** Start it again on the same port, with the same data; resolves once it serves. */
  startServer(): Promise<void>;
  restart(): Promise<void>;
  /** The server's log (and its stdout/stderr), for failure messages. */
  errorLog(): string;
  /** The absolute path on disk of a path below the DAV root ('a/b.txt' or '/a/b.txt'). */
  pathOf(relPath: string): string;
  /** Write a file below dataDir (parents created), owned by the server's user. Returns its path. */
  writeFile(relPath: string, data: string | Uint8Array): Promise<string>;
  /** Create a folder below dataDir (parents too), owned by the server's user. Returns its path. */
  mkdir(relPath: string): Promise<string>;
  /** Give everything below dataDir to the server's user (after writing there by other means). */
  fixOwnership(): Promise<void>;
}

export type DataHelpers = Pick<DavServer, 'pathOf' | 'writeFile' | 'mkdir' | 'fixOwnership'>;

/** Helpers for a data folder; `owner` is the account the server runs as (null: the test's own). */
export function createDataHelpers(dataDir: string, owner: SystemUser | null): DataHelpers {
  const pathOf = (relPath: string): string => {
    const target = resolve(dataDir, `.${sep}${relPath}`);
    const rel = relative(dataDir, target);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new Error(`${relPath} is not below the data folder ${dataDir}`);
    }
    return target;
  };

  /** chown `path` and the folders between it and dataDir. */
  const own = async (path: string): Promise<void> => {
    if (owner === null) return;
    for (let p = path; p.length > dataDir.length && p.startsWith(dataDir); p = dirname(p)) {
      await chown(p, owner.uid, owner.gid);
    }
  };

  return {
    pathOf,
    async writeFile(relPath, data) {
      const path = pathOf(relPath);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
      await own(path);
      return path;
    },
    async mkdir(relPath) {
      const path = pathOf(relPath);
      await mkdir(path, { recursive: true });
      await own(path);
      return path;
    },
    async fixOwnership() {
      if (owner === null) return;
      await chown(dataDir, owner.uid, owner.gid);
      const entries = await readdir(dataDir, { recursive: true });
      for (const entry of entries) await lchown(join(dataDir, entry), owner.uid, owner.gid);
    },
  };
}

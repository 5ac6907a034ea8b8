/**
 * The backend an account names: `http(s)://` -> WebDAV, `file:///` -> a local folder.
 *
 *   account.json { remote, user, ca } + secret --> RemoteBackend
 */
import { readFile } from 'node:fs/promises';
import { NetfsError, isNetfsError } from '../api/errors.js';
import type { Capabilities } from '../api/remote.js';
import type { RemoteBackend } from '../remote/backend.js';
import { createLocalBackend } from '../remote/local/backend.js';
import { createWebdavBackend } from '../remote/webdav/backend.js';
import { parseRootUrl } from '../remote/webdav/options.js';
import { rootFromUrl } from '../remote/local/root-url.js';

export interface RemoteSpec {
  remote: string;
  user: string | null;
  password: string | null;
  /** Path of a PEM file with the CA certificate(s) to trust besides the system's. */
  ca: string | null;
}

/** Checks a remote URL without connecting: INVALID_ARGUMENT / INSECURE naming what is wrong. */
export function checkRemoteUrl(remote: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(remote)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    rootFromUrl(remote);
    return;
  }
  if (scheme === 'http' || scheme === 'https') {
    parseRootUrl(remote, false);
    return;
  }
  throw new NetfsError('INVALID_ARGUMENT', `--remote must be an http(s):// WebDAV URL or a file:/// folder, not ${JSON.stringify(remote)}`);
}

export async function openRemote(spec: RemoteSpec): Promise<RemoteBackend> {
  checkRemoteUrl(spec.remote);
  if (/^file:/i.test(spec.remote)) return createLocalBackend({ url: spec.remote });
  let ca: string | undefined;
  if (spec.ca !== null) {
    try {
      ca = await readFile(spec.ca, 'utf8');
    } catch (e) {
      throw new NetfsError('INVALID_ARGUMENT', `cannot read the CA file ${spec.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new NetfsError('INVALID_ARGUMENT', `the CA file ${spec.ca} holds no PEM certificate`);
  }
  return createWebdavBackend({
    url: spec.remote,
    ...(spec.user === null ? {} : { user: spec.user }),
    ...(spec.password === null ? {} : { password: spec.password }),
    ...(ca === undefined ? {} : { ca }),
  });
}

/** Connects (lists the root: AUTH, UNREACHABLE) and probes the server's capabilities; `init` and the app's "add account" share it. */
export async function probeRemote(spec: RemoteSpec): Promise<Capabilities> {
  const backend = await openRemote(spec);
  try {
    const root = await backend.stat('/').catch((e: unknown) => {
      if (isNetfsError(e) && e.code === 'UNREACHABLE') throw new NetfsError('UNREACHABLE', `cannot reach ${spec.remote}: ${e.message}`);
      throw e;
    });
    if (root.kind !== 'folder') throw new NetfsError('INVALID_ARGUMENT', `--remote ${spec.remote} is a file, not a folder`);
    return await backend.capabilities();
  } finally {
    await backend.close();
  }
}

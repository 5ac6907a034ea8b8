/**
 * Options of the WebDAV backend, their defaults, and the refusal of plain http:// to a host
 * that is not this machine (S12): Basic credentials would cross the network in clear text.
 */
import { NetfsError } from '../../api/errors.js';

export interface WebdavOptions {
  /** The account's root folder, e.g. https://cloud.example/remote.php/dav/files/me/ (http or https). */
  url: string;
  user?: string;
  password?: string;
  /** PEM CA certificate(s) to trust besides the system's (a server with a private certificate). */
  ca?: string | Buffer;
  /** Allow plain http:// to a host that is not loopback (credentials then travel in clear text). */
  allowInsecureHttp?: boolean;
  /** Connections per origin (default 8). */
  connections?: number;
  timeouts?: Partial<WebdavTimeouts>;
  limits?: Partial<WebdavLimits>;
  /** Redirects followed for GET, HEAD, PROPFIND and OPTIONS (default 5, M5). */
  maxRedirects?: number;
}

export interface WebdavTimeouts {
  connectMs: number;
  headersMs: number;
  /** Silence inside a body before it is cut off (M4: one byte every 10 s). */
  bodyIdleMs: number;
  /** Whole PROPFIND, body included (M4: an endless listing). */
  listingDeadlineMs: number;
}

export interface WebdavLimits {
  /** Response headers (M4: 1 MiB of headers). */
  maxHeaderBytes: number;
  /** One PROPFIND answer (M4: a 2 GiB listing). */
  maxListingBytes: number;
}

export const DEFAULT_TIMEOUTS: WebdavTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyIdleMs: 30_000, listingDeadlineMs: 120_000 };
export const DEFAULT_LIMITS: WebdavLimits = { maxHeaderBytes: 16 * 1024, maxListingBytes: 64 * 1024 * 1024 };

/** Hosts that never leave this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Refuses a URL that may not carry our credentials: not http(s), or plain http off this machine. */
export function checkTarget(url: URL, allowInsecureHttp: boolean, what: string): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NetfsError('INSECURE', `${what}: ${url.protocol} URLs are not WebDAV servers (only http: and https:)`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecureHttp) {
    throw new NetfsError(
      'INSECURE',
      `${what}: plain http:// to ${url.hostname} would send the password in clear text; use https:// (or allow insecure http explicitly)`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new NetfsError('INVALID_ARGUMENT', `${what}: put the user name and password in the account settings, not in the URL`);
  }
}

/** The root URL, normalised to end in '/'. */
export function parseRootUrl(raw: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NetfsError('INVALID_ARGUMENT', `not a URL: ${JSON.stringify(raw)}`);
  }
  checkTarget(url, allowInsecureHttp, 'remote URL');
  if (url.search !== '' || url.hash !== '') throw new NetfsError('INVALID_ARGUMENT', `the remote URL must not have a query or fragment: ${raw}`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

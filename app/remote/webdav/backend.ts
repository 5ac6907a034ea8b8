/**
 * The WebDAV backend (RFC 4918 over RFC 9110), on undici and fast-xml-parser.
 *
 *   stat   PROPFIND Depth 0 ─┐
 *   list   PROPFIND Depth 1 ─┴─> xml.ts (safe parse) -> multistatus.ts -> href.ts (resolve, decode once)
 *   read   GET + Range + If-Match ──────> read-into.ts (straight into the caller's buffers)
 *   write  PUT + Content-Length + If-Match / If-None-Match: *   (body streamed from the caller)
 *   mkdir  MKCOL     move  MOVE + Destination + Overwrite     delete  DELETE + If-Match
 *   capabilities ──> probe.ts (in a .netfs-probe-* folder, removed afterwards)
 *
 * Every request goes through request(): credentials only to the account's origin, redirects
 * followed only for safe methods (at most 5, never to a non-http(s) URL or to plain http off this
 * machine, credentials dropped on another origin), and every answer bounded (header size,
 * idle body, listing size and deadline).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isNetfsError, NetfsError } from '../../api/errors.js';
import type { Capabilities, ListProblem, ListResult, RemoteEntry } from '../../api/remote.js';
import type {
  DeleteOptions, MoveOptions, Precondition, ReadOptions, ReadResult, RemoteBackend, WriteOptions, WriteResult,
} from '../backend.js';
import { joinRemotePath, parseRemotePath } from '../path.js';
import { cleanEtag, etagStrength, etagsMatchWeakly } from './etag.js';
import { type Consumer, header, HttpClient } from './http.js';
import { formatHttpDate, parseHttpDate } from './http-date.js';
import { parseMultistatus, parseStatusLine, toEntry } from './multistatus.js';
import { decodePathname, resolveHref, toUrl } from './href.js';
import {
  checkTarget, DEFAULT_LIMITS, DEFAULT_TIMEOUTS, parseRootUrl, type WebdavLimits, type WebdavOptions, type WebdavTimeouts,
} from './options.js';
import { probeCapabilities } from './probe.js';
import { ReadInto } from './read-into.js';
import { expectStatus, statusError } from './status.js';
import { davChildren, decodeUtf8Body, parseXml } from './xml.js';

const ERROR_BODY_BYTES = 16 * 1024;

const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<D:propfind xmlns:D="DAV:"><D:prop>' +
  '<D:resourcetype/><D:getcontentlength/><D:getetag/><D:getlastmodified/><D:getcontenttype/>' +
  '</D:prop></D:propfind>';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'PROPFIND', 'OPTIONS']);

export interface RequestInit<T> {
  headers?: Record<string, string>;
  body?: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  signal?: AbortSignal | undefined;
  deadlineMs?: number;
  what: string;
  /** The consumer for a final (non-redirect) answer; it sees the status first. */
  consumer: () => Consumer<T>;
}

/** Passes the answer on, or, for a redirect a safe method may follow, swallows its body. */
class RedirectAware<T> implements Consumer<T | null> {
  redirect: string | null = null;
  constructor(private readonly inner: Consumer<T>, private readonly follow: boolean) {}
  onHeaders(status: number, headers: IncomingHttpHeaders): void {
    if (this.follow && [301, 302, 303, 307, 308].includes(status)) {
      this.redirect = header(headers, 'location');
      if (this.redirect !== null) return;
    }
    this.inner.onHeaders(status, headers);
  }
  onData(chunk: Buffer): void {
    if (this.redirect === null) this.inner.onData(chunk);
  }
  onEnd(): T | null {
    return this.redirect === null ? this.inner.onEnd() : null;
  }
}

export class WebdavBackend implements RemoteBackend {
  readonly kind = 'webdav' as const;
  readonly origin: string;
  readonly root: URL;
  readonly timeouts: WebdavTimeouts;
  readonly limits: WebdavLimits;
  private readonly rootSegments: string[];
  private readonly http: HttpClient;
  private readonly authorization: string | null;
  private readonly allowInsecureHttp: boolean;
  private readonly maxRedirects: number;
  private caps: Promise<Capabilities> | null = null;
  private closed = false;

  constructor(options: WebdavOptions) {
    this.allowInsecureHttp = options.allowInsecureHttp ?? false;
    this.root = parseRootUrl(options.url, this.allowInsecureHttp);
    this.origin = this.root.origin;
    const decoded = decodePathname(this.root.pathname);
    if ('problem' in decoded) throw new NetfsError('INVALID_ARGUMENT', `remote URL path: ${decoded.problem}`);
    this.rootSegments = decoded.segments;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.maxRedirects = options.maxRedirects ?? 5;
    this.authorization =
      options.user === undefined ? null : 'Basic ' + Buffer.from(`${options.user}:${options.password ?? ''}`, 'utf8').toString('base64');
    this.http = new HttpClient({
      connections: options.connections ?? 8,
      connectTimeoutMs: this.timeouts.connectMs,
      headersTimeoutMs: this.timeouts.headersMs,
      bodyIdleTimeoutMs: this.timeouts.bodyIdleMs,
      maxHeaderBytes: this.limits.maxHeaderBytes,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
  }

  /** The URL of a remote path (folders with a trailing slash). */
  url(path: string, folder = false): URL {
    return toUrl(this.root, parseRemotePath(path), folder);
  }

  /** One request, following redirects for safe methods, with credentials for our origin only. */
  async request<T>(method: string, url: URL, init: RequestInit<T>): Promise<{ status: number; headers: IncomingHttpHeaders; value: T; url: URL }> {
    if (this.closed) throw new NetfsError('CANCELLED', `${init.what}: the backend is closed`);
    const follow = SAFE_METHODS.has(method);
    let target = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...init.headers };
      if (this.authorization !== null && target.origin === this.root.origin) headers['authorization'] = this.authorization;
      const consumer = new RedirectAware(init.consumer(), follow);
      const { status, headers: h, value } = await this.http.exchange(
        {
          method,
          url: target,
          headers,
          body: init.body ?? null,
          signal: init.signal,
          ...(init.deadlineMs === undefined ? {} : { deadlineMs: init.deadlineMs }),
          what: init.what,
        },
        consumer,
      );
      if (consumer.redirect === null) {
        if (!follow && status >= 300 && status < 400) {
          throw new NetfsError('PROTOCOL', `${init.what}: the server redirected a ${method} (HTTP ${status}); not followed`, { status });
        }
        return { status, headers: h, value: value as T, url: target };
      }
      if (hop + 1 > this.maxRedirects) throw new NetfsError('PROTOCOL', `${init.what}: more than ${this.maxRedirects} redirects`);
      let next: URL;
      try {
        next = new URL(consumer.redirect, target);
      } catch {
        throw new NetfsError('PROTOCOL', `${init.what}: redirect to an invalid URL ${JSON.stringify(consumer.redirect.slice(0, 200))}`);
      }
      checkTarget(next, this.allowInsecureHttp, `${init.what}: redirect`);
      target = next;
    }
  }

  // ---- metadata ------------------------------------------------------------------------

  private async propfind(url: URL, depth: '0' | '1' | 'infinity', what: string, signal?: AbortSignal) {
    const r = await this.request('PROPFIND', url, {
      headers: { depth, 'content-type': 'application/xml; charset=utf-8' },
      body: PROPFIND_BODY,
      signal,
      deadlineMs: this.timeouts.listingDeadlineMs,
      what,
      consumer: () => expectStatus([207], what, this.limits.maxListingBytes),
    });
    let root;
    try {
      root = parseXml(decodeUtf8Body(r.value.body, header(r.value.headers, 'content-type')));
    } catch (e) {
      throw new NetfsError('PROTOCOL', `${what}: ${(e as Error).message}`);
    }
    try {
      return { responses: parseMultistatus(root), url: r.url };
    } catch (e) {
      throw new NetfsError('PROTOCOL', `${what}: ${(e as Error).message}`);
    }
  }

  async stat(path: string, options: { signal?: AbortSignal } = {}): Promise<RemoteEntry> {
    const segments = parseRemotePath(path);
    const what = `PROPFIND ${path}`;
    const requested = toUrl(this.root, segments, segments.length === 0);
    const { responses, url } = await this.propfind(requested, '0', what, options.signal);
    const full = [...this.rootSegments, ...segments];
    for (const r of responses) {
      if (resolveHref(r.href, url, full).kind !== 'self') continue;
      if (r.status !== null && (r.status < 200 || r.status > 299)) throw statusError(r.status, {}, `${what} (inside 207)`);
      const built = toEntry(r, path, segments[segments.length - 1] ?? '');
      if ('problem' in built) throw new NetfsError('PROTOCOL', `${what}: ${built.message}`);
      return built.entry;
    }
    throw new NetfsError('PROTOCOL', `${what}: the answer does not describe the requested path`);
  }

  async list(path: string, options: { signal?: AbortSignal } = {}): Promise<ListResult> {
    const segments = parseRemotePath(path);
    const what = `PROPFIND ${path}`;
    const folderUrl = toUrl(this.root, segments, true);
    let responses;
    try {
      ({ responses } = await this.propfind(folderUrl, '1', what, options.signal));
    } catch (e) {
      // A file's URL with a slash: Apache says 400, others 404/405/409. Tell "not a folder" apart.
      if (e instanceof NetfsError && e.status !== undefined && [400, 404, 405, 409].includes(e.status) && segments.length > 0) {
        const kind = await this.stat(path, options).then((s) => s.kind, () => null);
        if (kind === 'file') throw new NetfsError('CONFLICT', `${what}: not a folder`);
      }
      throw e;
    }
    const full = [...this.rootSegments, ...segments];
    let folder: RemoteEntry | null = null;
    const problems: ListProblem[] = [];
    const byName = new Map<string, RemoteEntry | null>();
    for (const r of responses) {
      const where = resolveHref(r.href, folderUrl, full);
      if (where.kind === 'problem') {
        problems.push({ kind: where.problem, href: r.href, message: where.message });
        continue;
      }
      if (where.kind === 'self') {
        if (folder !== null) continue; // listed twice (with and without the slash): once is enough
        const built = toEntry(r, path, segments[segments.length - 1] ?? '');
        if ('problem' in built) throw new NetfsError('PROTOCOL', `${what}: the folder itself: ${built.message}`);
        if (built.entry.kind !== 'folder') throw new NetfsError('CONFLICT', `${what}: not a folder`);
        folder = built.entry;
        continue;
      }
      const childPath = joinRemotePath([...segments, where.name]);
      if (byName.has(where.name)) {
        problems.push({ kind: 'DUPLICATE', href: r.href, message: `the name ${JSON.stringify(where.name)} is listed more than once; every copy is left out` });
        byName.set(where.name, null);
        continue;
      }
      const built = toEntry(r, childPath, where.name);
      if ('problem' in built) {
        problems.push({ kind: built.problem, href: r.href, message: built.message });
        byName.set(where.name, null);
        continue;
      }
      byName.set(where.name, built.entry);
    }
    if (folder === null) {
      throw new NetfsError('PROTOCOL', `${what}: the listing does not include the folder itself (${responses.length} responses)`);
    }
    const entries = [...byName.values()].filter((e): e is RemoteEntry => e !== null);
    return { folder, entries, problems };
  }

  // ---- data ----------------------------------------------------------------------------

  async read(path: string, options: ReadOptions): Promise<ReadResult> {
    const { offset, length, buffers } = options;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new NetfsError('INVALID_ARGUMENT', `read ${path}: bad range ${offset}+${length}`);
    }
    const room = buffers.reduce((n, b) => n + b.length, 0);
    if (room < length) throw new NetfsError('INVALID_ARGUMENT', `read ${path}: ${length} bytes asked into ${room} bytes of buffers`);
    const url = this.url(path);
    if (length === 0) return { transferred: 0, eof: false, size: null, etag: null };
    const what = `GET ${path} [${offset}+${length}]`;
    const headers: Record<string, string> = {
      range: `bytes=${offset}-${offset + length - 1}`,
      'accept-encoding': 'identity',
      ...conditionHeaders(options.expect === undefined ? undefined : { kind: 'match', ...options.expect }),
    };
    let into: ReadInto | null = null;
    try {
      const r = await this.request('GET', url, {
        headers,
        signal: options.signal,
        what,
        consumer: () => (into = new ReadInto(what, offset, length, buffers, options.expect, options.onProgress)),
      });
      return r.value;
    } catch (e) {
      const got = (into as ReadInto | null)?.transferred ?? 0;
      if (e instanceof NetfsError && e.transferred === undefined && got > 0 && e.code === 'TRANSIENT') {
        throw new NetfsError(e.code, e.message, { transferred: got, cause: e, ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }) });
      }
      throw e;
    }
  }

  async write(path: string, options: WriteOptions): Promise<WriteResult> {
    const segments = parseRemotePath(path);
    if (segments.length === 0) throw new NetfsError('INVALID_ARGUMENT', 'cannot write the root folder');
    const { length } = options;
    if (!Number.isSafeInteger(length) || length < 0) throw new NetfsError('INVALID_ARGUMENT', `write ${path}: bad length ${length}`);
    const what = `PUT ${path}`;
    const precondition = options.precondition.kind === 'match' ? await this.recheck(path, options.precondition, what, options.signal) : options.precondition;
    let sourceError: NetfsError | null = null;
    const counted = countBytes(options.source, length, what, options.onProgress, (e) => (sourceError = e));
    const headers: Record<string, string> = {
      'content-length': String(length),
      'content-type': 'application/octet-stream',
      ...conditionHeaders(precondition),
    };
    // Nextcloud and ownCloud keep this as the file's modification time; other servers ignore it.
    if (options.mtimeMs !== undefined) headers['x-oc-mtime'] = String(Math.floor(options.mtimeMs / 1000));
    let r;
    try {
      r = await this.request('PUT', this.url(path), {
        headers,
        body: counted,
        signal: options.signal,
        what,
        consumer: () => expectStatus([200, 201, 204], what, ERROR_BODY_BYTES),
      });
    } catch (e) {
      throw sourceError ?? e;
    }
    if (sourceError !== null) throw sourceError;
    const etag = cleanEtag(header(r.headers, 'etag'));
    const lastModified = parseHttpDate(header(r.headers, 'last-modified'));
    if (etag !== null) return { etag, etagStrength: etagStrength(etag), size: length, mtimeMs: lastModified };
    // No ETag in the answer: ask. (Someone could have written in between; the sync layer re-checks.)
    const after = await this.stat(path, options.signal === undefined ? {} : { signal: options.signal });
    return { etag: after.etag, etagStrength: after.etagStrength, size: after.size ?? length, mtimeMs: after.mtimeMs };
  }

  /**
   * Where the expected version has no strong ETag to send, look first: the ETag (weakly),
   * size and date must still be the ones expected. Returns the precondition to send: If-Match
   * with the tag the server gives now when it has turned strong (Apache marks a tag weak for a
   * second after a change, then strong: the check above proved it is the expected version).
   * Without a strong tag nothing more is sent: Apache's mod_dav fails If-Unmodified-Since on
   * PUT and DELETE even for an unmodified file (it compares with the time of the request), so
   * the check above is the guard then; the sync layer re-checks after the change too.
   */
  private async recheck(path: string, expected: Precondition & { kind: 'match' }, what: string, signal?: AbortSignal): Promise<Precondition> {
    if (etagStrength(expected.etag) === 'strong') return expected;
    let now: RemoteEntry;
    try {
      now = await this.stat(path, signal === undefined ? {} : { signal });
    } catch (e) {
      if (e instanceof NetfsError && e.code === 'NOT_FOUND') throw new NetfsError('PRECONDITION_FAILED', `${what}: the file is gone from the server`, { status: 412 });
      throw e;
    }
    const differs =
      (expected.etag !== null && !etagsMatchWeakly(expected.etag, now.etag)) ||
      (expected.size != null && now.size !== expected.size) ||
      (expected.mtimeMs != null && now.mtimeMs !== null && Math.abs(now.mtimeMs - expected.mtimeMs) >= 1000);
    if (differs) throw new NetfsError('PRECONDITION_FAILED', `${what}: the file changed on the server (ETag, size or date differ)`, { status: 412 });
    if (expected.etag !== null && now.etagStrength === 'strong' && now.etag !== null) return { ...expected, etag: now.etag };
    return { kind: 'none' };
  }

  // ---- namespace -----------------------------------------------------------------------

  async mkdir(path: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const what = `MKCOL ${path}`;
    if (parseRemotePath(path).length === 0) throw new NetfsError('CONFLICT', `${what}: the root exists`);
    try {
      await this.request('MKCOL', this.url(path, true), { signal: options.signal, what, consumer: () => expectStatus([201], what, ERROR_BODY_BYTES) });
    } catch (e) {
      if (e instanceof NetfsError && e.status === 405) throw new NetfsError('CONFLICT', `${what}: already exists`, { status: 405 });
      if (e instanceof NetfsError && e.status === 409) throw new NetfsError('CONFLICT', `${what}: the parent folder is missing`, { status: 409 });
      throw e;
    }
  }

  async move(from: string, to: string, options: MoveOptions = {}): Promise<void> {
    const what = `MOVE ${from} -> ${to}`;
    const src = parseRemotePath(from);
    const dst = parseRemotePath(to);
    if (src.length === 0 || dst.length === 0) throw new NetfsError('INVALID_ARGUMENT', `${what}: cannot move the root`);
    if (dst.length > src.length && src.every((s, i) => dst[i] === s)) throw new NetfsError('CONFLICT', `${what}: into its own subtree`);
    const p = options.precondition;
    const sent = p?.kind === 'match' ? await this.recheck(from, p, what, options.signal) : p;
    const headers: Record<string, string> = {
      destination: toUrl(this.root, dst, false).href,
      overwrite: options.overwrite === true ? 'T' : 'F',
      ...conditionHeaders(sent),
    };
    try {
      await this.request('MOVE', toUrl(this.root, src, false), { headers, signal: options.signal, what, consumer: () => expectStatus([201, 204], what, ERROR_BODY_BYTES) });
    } catch (e) {
      if (e instanceof NetfsError && e.status === 412 && options.overwrite !== true) {
        // Overwrite: F and the destination exists, or the source's If-Match failed: look which.
        const sourceChanged = p?.kind === 'match' && (await this.stat(from).then((s) => s.etag !== p.etag, () => true));
        if (!sourceChanged) throw new NetfsError('CONFLICT', `${what}: the destination exists`, { status: 412 });
      }
      if (e instanceof NetfsError && e.status === 409) throw new NetfsError('CONFLICT', `${what}: the destination's folder is missing`, { status: 409 });
      if (e instanceof NetfsError && e.code === 'FORBIDDEN') {
        // Some servers (rclone serve) answer 403 for a source that is not there: look.
        const gone = await this.stat(from).then(() => false, (s) => isNetfsError(s) && s.code === 'NOT_FOUND');
        if (gone) throw new NetfsError('NOT_FOUND', `${what}: the source does not exist`, { status: 404 });
      }
      throw e;
    }
  }

  async delete(path: string, options: DeleteOptions = {}): Promise<void> {
    const what = `DELETE ${path}`;
    if (parseRemotePath(path).length === 0) throw new NetfsError('INVALID_ARGUMENT', `${what}: refusing to delete the root`);
    const p = options.precondition;
    const sent = p?.kind === 'match' ? await this.recheck(path, p, what, options.signal) : p;
    const r = await this.request('DELETE', this.url(path), {
      headers: conditionHeaders(sent),
      signal: options.signal,
      what,
      consumer: () => expectStatus([200, 204, 207], what, this.limits.maxListingBytes),
    });
    if (r.value.status === 207) {
      // Some members could not be deleted (RFC 4918 §9.6.1): report the first failure.
      let failure = 0;
      let count = 0;
      try {
        for (const resp of davChildren(parseXml(decodeUtf8Body(r.value.body, null)), 'response')) {
          const st = parseStatusLine(resp.children.find((c) => c.ns === 'DAV:' && c.local === 'status')?.text ?? '');
          if (st !== null && (st < 200 || st > 299)) {
            count++;
            failure ||= st;
          }
        }
      } catch {
        throw new NetfsError('PROTOCOL', `${what}: unreadable 207 answer`);
      }
      if (count > 0) {
        const err = statusError(failure, {}, what);
        throw new NetfsError(err.code, `${what}: ${count} member(s) could not be deleted (first: HTTP ${failure})`, { status: failure });
      }
    }
  }

  // ---- capabilities --------------------------------------------------------------------

  capabilities(options: { signal?: AbortSignal; refresh?: boolean } = {}): Promise<Capabilities> {
    if (this.caps === null || options.refresh === true) {
      const probing = probeCapabilities(this, options.signal);
      this.caps = probing;
      probing.catch(() => {
        if (this.caps === probing) this.caps = null;
      });
    }
    return this.caps;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.http.close();
  }
}

/** The precondition as headers: If-Match only with a strong tag; else If-Unmodified-Since where a date is known. */
export function conditionHeaders(p: Precondition | undefined): Record<string, string> {
  if (p === undefined || p.kind === 'none') return {};
  if (p.kind === 'absent') return { 'if-none-match': '*' };
  if (etagStrength(p.etag) === 'strong') return { 'if-match': p.etag! };
  if (p.mtimeMs != null) return { 'if-unmodified-since': formatHttpDate(p.mtimeMs) };
  return {};
}

/** Wraps the caller's chunks: counts them, reports progress, and refuses a source longer or shorter than announced (B7). */
async function* countBytes(
  source: AsyncIterable<Uint8Array>,
  length: number,
  what: string,
  onProgress: ((n: number) => void) | undefined,
  onError: (e: NetfsError) => void,
): AsyncGenerator<Uint8Array> {
  let sent = 0;
  for await (const chunk of source) {
    if (sent + chunk.length > length) {
      const e = new NetfsError('TOO_LARGE', `${what}: the source yielded more than the announced ${length} bytes`);
      onError(e);
      throw e;
    }
    sent += chunk.length;
    yield chunk;
    onProgress?.(sent);
  }
  if (sent !== length) {
    const e = new NetfsError('IO', `${what}: the source ended after ${sent} of ${length} bytes (did the file shrink?)`);
    onError(e);
    throw e;
  }
}

export function createWebdavBackend(options: WebdavOptions): WebdavBackend {
  return new WebdavBackend(options);
}

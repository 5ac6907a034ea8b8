/**
 * Remote paths <-> request URLs <-> the hrefs a server answers with (B1, M1, P4).
 *
 *   "/docs/a b#1.txt" --toUrl--> http://host/dav/docs/a%20b%231.txt
 *
 *   href (any form: encoded or not, upper/lower hex, absolute URL, absolute path, relative)
 *     --resolveHref(href, listed folder)--> { self } | { child: name } | { problem }
 *
 * Each path segment is decoded exactly once, after the URL is resolved, so "%2e%2e" is
 * a dot segment only to the URL parser (and resolves away), "%252e" stays "%2e", and an
 * encoded slash ("a%2fb") is a name with a slash in it: refused, never a path.
 *
 * Fast path (a listing is mostly hrefs like "/dav/docs/report-7.txt"): an href that is the
 * listed folder's own URL path followed by one segment of characters that stand for themselves
 * (RFC 3986 pchar without '%', so neither the URL parser nor the decoder changes them, and no
 * dot segment) resolves without either; anything else takes the full path above.
 */
import type { ListProblemKind } from '../../api/remote.js';
import { nameProblem } from '../path.js';

/** Percent-encodes one name for a URL path: everything but unreserved characters (RFC 3986 §2.3). */
export function encodeSegment(name: string): string {
  return encodeURIComponent(name).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The URL of a remote path below the account's root URL (which ends in '/'). Folders get a trailing '/'. */
export function toUrl(root: URL, segments: readonly string[], folder: boolean): URL {
  const tail = segments.map(encodeSegment).join('/');
  const url = new URL(root.href);
  url.pathname = root.pathname + tail + (folder && segments.length > 0 ? '/' : '');
  return url;
}

/** The decoded segments of a URL's path, or a reason it cannot be decoded cleanly. */
export function decodePathname(pathname: string): { segments: string[] } | { problem: string } {
  const raw = pathname.split('/');
  // Leading '' (absolute path) and a trailing '' (collection slash) are structure, not names.
  if (raw[0] === '') raw.shift();
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  const segments: string[] = [];
  for (const part of raw) {
    let name: string;
    try {
      name = decodeURIComponent(part);
    } catch {
      return { problem: `cannot decode ${JSON.stringify(part)} (bad percent-encoding or not UTF-8)` };
    }
    if (name === '') return { problem: 'empty path segment' };
    if (name.includes('/')) return { problem: `encoded slash in ${JSON.stringify(part)}` };
    segments.push(name);
  }
  return { segments };
}

export type HrefResolution =
  | { kind: 'self' }
  | { kind: 'child'; name: string }
  | { kind: 'problem'; problem: ListProblemKind; message: string };

/**
 * Where an href of a Depth 1 listing of `folderUrl` points: the folder itself, one of its
 * children, or nowhere we accept (another origin, outside the folder, deeper, a bad name).
 */
export function resolveHref(href: string, folderUrl: URL, folderSegments: readonly string[]): HrefResolution {
  return resolvePlainHref(href, folderUrl, folderSegments) ?? resolveHrefByUrl(href, folderUrl, folderSegments);
}

/** resolveHref the full way: the URL parser, then each segment decoded once. */
export function resolveHrefByUrl(href: string, folderUrl: URL, folderSegments: readonly string[]): HrefResolution {
  let url: URL;
  try {
    url = new URL(href.trim(), folderUrl);
  } catch {
    return { kind: 'problem', problem: 'BAD_NAME', message: `href is not a URL: ${JSON.stringify(href)}` };
  }
  if (url.origin !== folderUrl.origin) {
    return { kind: 'problem', problem: 'OUTSIDE_FOLDER', message: `href points to another server (${url.origin})` };
  }
  if (url.search !== '' || url.hash !== '') {
    return {
      kind: 'problem',
      problem: 'BAD_NAME',
      message: `href has an unencoded "?" or "#" (${JSON.stringify(href)}): the name cannot be known`,
    };
  }
  const decoded = decodePathname(url.pathname);
  if ('problem' in decoded) return { kind: 'problem', problem: 'BAD_NAME', message: decoded.problem };
  const { segments } = decoded;
  if (segments.length < folderSegments.length || folderSegments.some((s, i) => segments[i] !== s)) {
    return { kind: 'problem', problem: 'OUTSIDE_FOLDER', message: `href is outside the listed folder: ${JSON.stringify(href)}` };
  }
  if (segments.length === folderSegments.length) return { kind: 'self' };
  if (segments.length > folderSegments.length + 1) {
    return { kind: 'problem', problem: 'OUTSIDE_FOLDER', message: `href is deeper than one level: ${JSON.stringify(href)}` };
  }
  const name = segments[segments.length - 1]!;
  const problem = nameProblem(name);
  if (problem !== null) return { kind: 'problem', problem: 'BAD_NAME', message: `${problem}: ${JSON.stringify(href)}` };
  return { kind: 'child', name };
}

/** One path segment (and an optional trailing slash) that the URL parser and decodeURIComponent leave unchanged. */
const PLAIN_TAIL = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]+\/?$/;

/** Per folder URL: its path, and whether that path decodes to exactly the folder's segments (else no fast path). */
const plainBases = new WeakMap<URL, { segments: readonly string[]; base: string | null }>();

function plainBase(folderUrl: URL, folderSegments: readonly string[]): string | null {
  const cached = plainBases.get(folderUrl);
  if (cached !== undefined && cached.segments === folderSegments) return cached.base;
  const base = folderUrl.pathname;
  const decoded = decodePathname(base);
  const same =
    base.endsWith('/') &&
    folderUrl.search === '' &&
    'segments' in decoded &&
    decoded.segments.length === folderSegments.length &&
    decoded.segments.every((s, i) => s === folderSegments[i]);
  const entry = { segments: folderSegments, base: same ? base : null };
  plainBases.set(folderUrl, entry);
  return entry.base;
}

/** The fast path of resolveHref (see the header), or null when the href needs the full one. */
export function resolvePlainHref(href: string, folderUrl: URL, folderSegments: readonly string[]): HrefResolution | null {
  const base = plainBase(folderUrl, folderSegments);
  if (base === null || !href.startsWith(base)) return null;
  if (href.length === base.length) return { kind: 'self' };
  const rest = href.slice(base.length);
  if (!PLAIN_TAIL.test(rest)) return null;
  const name = rest.endsWith('/') ? rest.slice(0, -1) : rest;
  if (name === '.' || name === '..') return null;
  const problem = nameProblem(name);
  if (problem !== null) return { kind: 'problem', problem: 'BAD_NAME', message: `${problem}: ${JSON.stringify(href)}` };
  return { kind: 'child', name };
}

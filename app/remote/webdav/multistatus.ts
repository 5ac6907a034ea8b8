/**
 * RFC 4918 §14.16 multistatus, read strictly (B3, B4, B5):
 *
 *   multistatus
 *     response*  ( href, status )            one status for the whole resource
 *              | ( href, propstat+ )          prop + status per group of properties
 *
 * Only properties inside a 2xx propstat count; a 404 propstat means "not there".
 * An entry is built only from what the server really said: a file without a size, or any
 * entry without a resourcetype, is a problem, not a guess; a missing or odd ETag or date
 * stays null (never "unchanged").
 */
import { NetfsError } from '../../api/errors.js';
import type { RemoteEntry } from '../../api/remote.js';
import { cleanEtag, etagStrength } from './etag.js';
import { parseHttpDate } from './http-date.js';
import { davChild, davChildren, type XmlElement } from './xml.js';

export interface DavResponse {
  href: string;
  /** Response-level status (the `href, status` form), or null for the propstat form. */
  status: number | null;
  /** Properties from 2xx propstats, by local name (DAV: namespace only). */
  props: Map<string, XmlElement>;
  /** Non-2xx propstat statuses seen, for messages. */
  failedPropStatuses: number[];
}

/** "HTTP/1.1 404 Not Found" -> 404; null when unreadable. */
export function parseStatusLine(text: string): number | null {
  const m = /^\s*HTTP\/\d(?:\.\d)?\s+(\d{3})\b/.exec(text);
  return m === null ? null : Number(m[1]);
}

export function parseMultistatus(root: XmlElement): DavResponse[] {
  if (root.ns !== 'DAV:' || root.local !== 'multistatus') {
    throw new NetfsError('PROTOCOL', `expected a DAV:multistatus answer, got <${root.local}> in namespace "${root.ns}"`);
  }
  const out: DavResponse[] = [];
  for (const response of davChildren(root, 'response')) {
    const hrefs = davChildren(response, 'href').map((h) => h.text.trim());
    if (hrefs.length === 0) throw new NetfsError('PROTOCOL', 'a DAV:response without a DAV:href');
    const statusEl = davChild(response, 'status');
    const propstats = davChildren(response, 'propstat');
    if (statusEl !== undefined || propstats.length === 0) {
      const status = statusEl === undefined ? null : parseStatusLine(statusEl.text);
      for (const href of hrefs) out.push({ href, status: status ?? 0, props: new Map(), failedPropStatuses: [] });
      continue;
    }
    const props = new Map<string, XmlElement>();
    const failed: number[] = [];
    for (const ps of propstats) {
      const st = parseStatusLine(davChild(ps, 'status')?.text ?? '');
      const prop = davChild(ps, 'prop');
      if (st === null || prop === undefined) {
        failed.push(st ?? 0);
        continue;
      }
      if (st >= 200 && st < 300) {
        for (const p of prop.children) if (p.ns === 'DAV:') props.set(p.local, p);
      } else {
        failed.push(st);
      }
    }
    // The propstat form names exactly one href (RFC 4918 §14.24).
    out.push({ href: hrefs[0]!, status: null, props, failedPropStatuses: failed });
  }
  return out;
}

export type EntryOrProblem = { entry: RemoteEntry } | { problem: 'MISSING_PROPERTIES' | 'ENTRY_STATUS'; message: string };

/** Builds the entry for one response at `path` (already resolved and checked). */
export function toEntry(r: DavResponse, path: string, name: string): EntryOrProblem {
  if (r.status !== null && (r.status < 200 || r.status > 299)) {
    return { problem: 'ENTRY_STATUS', message: `the server answered this entry with status ${r.status || 'unreadable'}` };
  }
  const rt = r.props.get('resourcetype');
  if (rt === undefined) {
    const why = r.failedPropStatuses.length > 0 ? ` (propstat ${r.failedPropStatuses.join(', ')})` : '';
    return { problem: 'MISSING_PROPERTIES', message: `no DAV:resourcetype${why}: cannot tell a file from a folder` };
  }
  const folder = davChild(rt, 'collection') !== undefined;
  let size: number | null = null;
  if (!folder) {
    const text = r.props.get('getcontentlength')?.text.trim();
    if (text === undefined || !/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
      return {
        problem: 'MISSING_PROPERTIES',
        message: text === undefined ? 'a file without DAV:getcontentlength' : `unreadable DAV:getcontentlength ${JSON.stringify(text.slice(0, 40))}`,
      };
    }
    size = Number(text);
  }
  const etag = cleanEtag(r.props.get('getetag')?.text);
  const type = r.props.get('getcontenttype')?.text.trim();
  return {
    entry: {
      path,
      name,
      kind: folder ? 'folder' : 'file',
      size,
      etag,
      etagStrength: etagStrength(etag),
      mtimeMs: parseHttpDate(r.props.get('getlastmodified')?.text),
      contentType: type === undefined || type === '' ? null : type,
    },
  };
}

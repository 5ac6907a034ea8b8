// Builds 207 Multi-Status XML bodies for the replay server: one <response> per entry, with
// per-propstat statuses (so a test can send "404 for some props"), a response-level status,
// or an href written verbatim for broken-input tests.
import { STATUS_CODES } from 'node:http';
import type { ResponseSpec } from './http-bytes.js';

/** DAV: properties; undefined leaves a property out, '' writes an empty element. */
export interface DavProps {
  getetag?: string;
  getcontentlength?: number | string;
  /** A Date is written in RFC 1123 form; a string as given (for odd date formats). */
  getlastmodified?: Date | string;
  /** 'collection', 'file' (empty resourcetype), or raw XML to put inside <resourcetype>. */
  resourcetype?: 'collection' | 'file' | (string & {});
  getcontenttype?: string;
  displayname?: string;
  creationdate?: string;
  /** Extra XML inside <prop>, verbatim (other namespaces, broken markup). */
  xml?: string;
}

export interface Propstat {
  /** 200, 404, ... or a whole status line as a string. */
  status: number | string;
  props: DavProps;
}

export interface MultistatusEntry {
  href: string;
  /** Write the href as given, without XML escaping. */
  rawHref?: boolean;
  /** Shorthand for one propstat with status 200. */
  props?: DavProps;
  propstats?: Propstat[];
  /** A response-level <status> (then usually no props), e.g. 403 inside a 207. */
  status?: number | string;
}

export interface MultistatusOptions {
  /** Namespace prefix for DAV:. Default 'D'; '' uses a default namespace. */
  prefix?: string;
  /** Start with `<?xml version="1.0" encoding="utf-8"?>`. Default true. */
  declaration?: boolean;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 'HTTP/1.1 404 Not Found' for 404; strings are taken as they are. */
export function statusLine(status: number | string): string {
  return typeof status === 'string' ? status : `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
}

function propsXml(props: DavProps, el: (name: string) => string): string {
  const out: string[] = [];
  const simple = (name: keyof DavProps, value: string | number | undefined): void => {
    if (value === undefined) return;
    const text = escapeXml(String(value));
    out.push(text === '' ? `<${el(name)}/>` : `<${el(name)}>${text}</${el(name)}>`);
  };
  const { resourcetype, getlastmodified } = props;
  if (resourcetype !== undefined) {
    if (resourcetype === 'collection') out.push(`<${el('resourcetype')}><${el('collection')}/></${el('resourcetype')}>`);
    else if (resourcetype === 'file' || resourcetype === '') out.push(`<${el('resourcetype')}/>`);
    else out.push(`<${el('resourcetype')}>${resourcetype}</${el('resourcetype')}>`);
  }
  simple('displayname', props.displayname);
  simple('getcontentlength', props.getcontentlength);
  simple('getlastmodified', getlastmodified instanceof Date ? getlastmodified.toUTCString() : getlastmodified);
  simple('getetag', props.getetag);
  simple('getcontenttype', props.getcontenttype);
  simple('creationdate', props.creationdate);
  if (props.xml !== undefined) out.push(props.xml);
  return out.join('');
}

export function multistatus(entries: readonly MultistatusEntry[], options: MultistatusOptions = {}): string {
  const prefix = options.prefix ?? 'D';
  const el = (name: string): string => (prefix === '' ? name : `${prefix}:${name}`);
  const ns = prefix === '' ? 'xmlns="DAV:"' : `xmlns:${prefix}="DAV:"`;
  const responses = entries.map((entry) => {
    const href = entry.rawHref === true ? entry.href : escapeXml(entry.href);
    const propstats = [...(entry.props === undefined ? [] : [{ status: 200, props: entry.props }]), ...(entry.propstats ?? [])];
    const parts = [`<${el('href')}>${href}</${el('href')}>`];
    for (const ps of propstats) {
      parts.push(
        `<${el('propstat')}><${el('prop')}>${propsXml(ps.props, el)}</${el('prop')}>` +
          `<${el('status')}>${escapeXml(statusLine(ps.status))}</${el('status')}></${el('propstat')}>`,
      );
    }
    if (entry.status !== undefined) parts.push(`<${el('status')}>${escapeXml(statusLine(entry.status))}</${el('status')}>`);
    return `<${el('response')}>${parts.join('')}</${el('response')}>`;
  });
  const declaration = options.declaration === false ? '' : '<?xml version="1.0" encoding="utf-8"?>\n';
  return `${declaration}<${el('multistatus')} ${ns}>\n${responses.join('\n')}\n</${el('multistatus')}>\n`;
}

/** A whole 207 answer for reply.send(). */
export function multistatusResponse(entries: readonly MultistatusEntry[], options: MultistatusOptions = {}): ResponseSpec {
  return {
    status: 207,
    headers: { 'Content-Type': 'application/xml; charset=utf-8' },
    body: multistatus(entries, options),
  };
}

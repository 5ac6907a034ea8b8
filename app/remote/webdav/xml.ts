/**
 * Safe, namespace-aware parsing of the XML a WebDAV server sends (M3, B5).
 *
 *   bytes --UTF-8 (fatal)--> text --xml-scan.ts: no DOCTYPE/ENTITY, well formed, depth cap-->
 *   fast-xml-parser (entities off, no path matching) --> XmlElement tree { ns, local, children, text }
 *
 * No DOCTYPE means no entity can be declared, so there is nothing to expand; the five
 * predefined entities and numeric character references are decoded here, once, in one pass.
 * Element names are resolved against the xmlns declarations in scope, so `D:href`,
 * `d:href` and `href` under `xmlns="DAV:"` are all {DAV:}href, and a `{urn:x}getetag` is not.
 *
 * Speed (a 50,000-entry listing is about 22 MB of XML): the structural scan replaces
 * fast-xml-parser's separate validation pass; `jPath: false` spares the parser building a
 * path string for every node; the tree is converted with a linked namespace scope (no map
 * copied per element).
 */
import { XMLParser } from 'fast-xml-parser';
import { NetfsError } from '../../api/errors.js';
import { checkXmlStructure } from './xml-scan.js';

export interface XmlElement {
  /** Namespace URI ('' when none is in scope). */
  ns: string;
  local: string;
  children: XmlElement[];
  /** The element's own text (not its children's), entities decoded. */
  text: string;
}

/** Deeper than this is not a WebDAV answer (a multistatus is about 6 levels deep); M3's 10^6 nesting is refused. */
export const MAX_XML_DEPTH = 64;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  // Callbacks get the parser's matcher rather than a path string built for every node.
  jPath: false,
});

function protocol(message: string): NetfsError {
  return new NetfsError('PROTOCOL', message);
}

const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos|[^;\s]{0,32});?/g;

/** Decodes the predefined entities and character references, once; anything else is malformed XML. */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, body: string) => {
    if (!whole.endsWith(';')) throw protocol(`malformed entity reference ${JSON.stringify(whole.slice(0, 40))}`);
    switch (body) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
    }
    if (body.startsWith('#')) {
      const code = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      const valid = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!valid) throw protocol(`character reference to an invalid character: ${whole}`);
      return String.fromCodePoint(code);
    }
    throw protocol(`undeclared entity ${JSON.stringify(whole.slice(0, 40))} (DTDs are refused)`);
  });
}

type FxpNode = Record<string, unknown>;

/** The namespace declarations in scope: one link per element that declares any (innermost first). */
interface Scope {
  readonly prefix: string;
  readonly uri: string;
  readonly parent: Scope | null;
}

const XML_SCOPE: Scope = { prefix: 'xml', uri: 'http://www.w3.org/XML/1998/namespace', parent: null };

function lookup(scope: Scope | null, prefix: string): string | undefined {
  for (let s = scope; s !== null; s = s.parent) if (s.prefix === prefix) return s.uri;
  return undefined;
}

function convert(node: FxpNode, scope: Scope): XmlElement | null {
  let tag: string | undefined;
  for (const key in node) {
    if (key !== ':@') {
      tag = key;
      break;
    }
  }
  if (tag === undefined || tag === '#text' || tag === '#cdata') return null;
  let here = scope;
  const attrs = node[':@'] as Record<string, string> | undefined;
  if (attrs !== undefined) {
    for (const name in attrs) {
      if (name === 'xmlns') here = { prefix: '', uri: decodeXmlText(attrs[name]!), parent: here };
      else if (name.startsWith('xmlns:')) here = { prefix: name.slice(6), uri: decodeXmlText(attrs[name]!), parent: here };
    }
  }
  const colon = tag.indexOf(':');
  const prefix = colon === -1 ? '' : tag.slice(0, colon);
  const local = colon === -1 ? tag : tag.slice(colon + 1);
  const ns = lookup(here, prefix) ?? (prefix === '' ? '' : undefined);
  if (ns === undefined) throw protocol(`undeclared namespace prefix "${prefix}" on <${tag}>`);
  const element: XmlElement = { ns, local, children: [], text: '' };
  const body = node[tag];
  if (Array.isArray(body)) {
    for (const child of body as FxpNode[]) {
      const text = child['#text'];
      if (text !== undefined) {
        element.text += decodeXmlText(String(text));
      } else if ('#cdata' in child) {
        const parts = child['#cdata'];
        if (Array.isArray(parts)) for (const p of parts as FxpNode[]) element.text += String(p['#text'] ?? '');
      } else {
        const c = convert(child, here);
        if (c !== null) element.children.push(c);
      }
    }
  }
  return element;
}

/** Decodes a body as UTF-8, refusing any other charset and any invalid byte (B5: wrong charset). */
export function decodeUtf8Body(body: Uint8Array, contentType: string | null): string {
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw protocol(`the answer is in charset ${charset}; only UTF-8 is accepted`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw protocol('the answer is not valid UTF-8');
  }
}

/** Parses an XML document into its root element, or fails with PROTOCOL saying what was wrong. */
export function parseXml(text: string): XmlElement {
  const head = text.trimStart();
  if (head === '') throw protocol('empty XML body');
  const decl = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(head)?.[1]?.toLowerCase();
  if (decl !== undefined && decl !== 'utf-8' && decl !== 'utf8' && decl !== 'us-ascii') {
    throw protocol(`XML declares encoding ${decl}; only UTF-8 is accepted`);
  }
  checkXmlStructure(text, MAX_XML_DEPTH);
  let nodes: FxpNode[];
  try {
    nodes = parser.parse(text) as FxpNode[];
  } catch (e) {
    throw protocol(`malformed XML: ${(e as Error).message}`);
  }
  const roots = nodes.map((n) => convert(n, XML_SCOPE)).filter((e): e is XmlElement => e !== null);
  if (roots.length !== 1) throw protocol(`XML has ${roots.length} root elements`);
  return roots[0]!;
}

/** Children of `el` named {DAV:}`local`. */
export function davChildren(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.ns === 'DAV:' && c.local === local);
}

export function davChild(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c) => c.ns === 'DAV:' && c.local === local);
}

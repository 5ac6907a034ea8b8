/**
 * The one linear pass over an XML text that runs before fast-xml-parser builds the tree (M3, B5):
 * it refuses what is unsafe and what is malformed, so the (lenient, fast) parse that follows
 * only ever sees a well-formed document without a DTD.
 *
 *   text ──> '<' … '>' tokens, left to right, never backtracking:
 *     <!DOCTYPE / <!ENTITY / any other <! …  ──> refused (no DTD: nothing can be declared)
 *     <!-- … -->   <![CDATA[ … ]]>   <? … ?>  ──> skipped (CDATA only inside the root, <?xml …?> only first)
 *     <name attr="v" …>  <name …/>           ──> name checked, attributes well formed and
 *                                                 unique, depth counted against the cap
 *     </name>                                ──> must close the innermost open element
 *     text outside the root                  ──> only whitespace
 *   end: exactly one root, nothing left open (a cut-short document fails here)
 *
 * It replaces fast-xml-parser's separate validation pass, which cost about a fifth of a
 * listing's parse; the parser itself is lenient (an unmatched closing tag, or a document cut
 * short, still gives a tree), so this pass is what makes a broken answer fail.
 */
import { NetfsError } from '../../api/errors.js';

// The XML Name production (as fast-xml-parser's validator has it), less the two characters in its
// ranges that JavaScript regexes count as whitespace (U+1680, U+FEFF): the parser splits tag names there.
const NAME_START = ':A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u167F\\u1681-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFEFE\\uFF00-\\uFFFD';
const NAME_CHAR = NAME_START + '\\-.\\d\\u00B7\\u0300-\\u036F\\u203F-\\u2040';
// Combining marks (U+0300–U+036F) are NameChars in XML: the class means them on their own.
// eslint-disable-next-line no-misleading-character-class
const NAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`);
/** One attribute: whitespace, name, '=', a quoted value without '<'. Sticky: matched where the last one ended. */
const ATTRIBUTE = /[ \t\r\n]+([^\s=<>/"']+)[ \t\r\n]*=[ \t\r\n]*(?:"([^"<]*)"|'([^'<]*)')/y;
const TRAILING_SPACE = /^[ \t\r\n]*$/;
const DECLARATION = /^<!(?:DOCTYPE|ENTITY)/i;
const XML_DECLARATION = /^<\?xml(?:[ \t\r\n?]|$)/i;
const BAD_REFERENCE = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)/;

function malformed(message: string): NetfsError {
  return new NetfsError('PROTOCOL', `malformed XML: ${message}`);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function blank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(text.charCodeAt(i))) return false;
  return true;
}

/** Index of the '>' ending the tag that starts before `from`, skipping quoted values; -1 when there is none. */
function tagEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3e /* > */) return i;
    if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
      i = text.indexOf(c === 0x22 ? '"' : "'", i + 1);
      if (i === -1) return -1;
    }
  }
  return -1;
}

/** Index of the '?>' ending a processing instruction, skipping quoted values; -1 when there is none. */
function piEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3f /* ? */ && text.charCodeAt(i + 1) === 0x3e) return i;
    if (c === 0x22 || c === 0x27) {
      i = text.indexOf(c === 0x22 ? '"' : "'", i + 1);
      if (i === -1) return -1;
    }
  }
  return -1;
}

function short(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** Checks the attribute part of a start tag (from just after the name to just before '>' or '/>'). */
function checkAttributes(text: string, from: number, to: number, element: string): void {
  let names: string[] | null = null;
  ATTRIBUTE.lastIndex = from;
  let at = from;
  for (;;) {
    const m = ATTRIBUTE.exec(text);
    if (m === null || m.index !== at || ATTRIBUTE.lastIndex > to) break;
    const name = m[1]!;
    if (!NAME.test(name)) throw malformed(`bad attribute name ${short(name)} on <${element}>`);
    names ??= [];
    if (names.includes(name)) throw malformed(`attribute ${name} given twice on <${element}>`);
    names.push(name);
    const value = m[2] ?? m[3] ?? '';
    if (value.includes('&') && BAD_REFERENCE.test(value)) throw malformed(`bad entity reference in attribute ${name} of <${element}>`);
    at = ATTRIBUTE.lastIndex;
  }
  if (!TRAILING_SPACE.test(text.slice(at, to))) throw malformed(`unreadable attributes ${short(text.slice(at, to))} on <${element}>`);
}

/**
 * Refuses a DTD (DOCTYPE or ENTITY), a document nested deeper than `maxDepth`, and any
 * document that is not well formed as far as its tree goes: unclosed or mismatched elements,
 * unterminated markup, bad names or attributes, text or a second element outside the root.
 */
export function checkXmlStructure(text: string, maxDepth: number): void {
  const open: string[] = [];
  let roots = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    const lt = text.indexOf('<', pos);
    const textEnd = lt === -1 ? n : lt;
    if (open.length === 0 && textEnd > pos && !blank(text, pos, textEnd)) throw malformed(`text outside the root element: ${short(text.slice(pos, textEnd).trim())}`);
    if (lt === -1) break;
    const c1 = text.charCodeAt(lt + 1);
    if (c1 === 0x2f /* / */) {
      const gt = text.indexOf('>', lt + 2);
      if (gt === -1) throw malformed('a closing tag is cut short');
      let end = gt;
      while (end > lt + 2 && isSpace(text.charCodeAt(end - 1))) end--;
      const name = text.slice(lt + 2, end);
      const innermost = open.pop();
      if (innermost === undefined) throw malformed(`</${name.slice(0, 40)}> closes nothing`);
      if (innermost !== name) throw malformed(`</${name.slice(0, 40)}> closes <${innermost}>`);
      pos = gt + 1;
    } else if (c1 === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const end = text.indexOf('-->', lt + 4);
        if (end === -1) throw malformed('an unterminated comment');
        pos = end + 3;
      } else if (text.startsWith('<![CDATA[', lt)) {
        if (open.length === 0) throw malformed('CDATA outside the root element');
        const end = text.indexOf(']]>', lt + 9);
        if (end === -1) throw malformed('an unterminated CDATA section');
        pos = end + 3;
      } else if (DECLARATION.test(text.slice(lt, lt + 9))) {
        throw new NetfsError('PROTOCOL', 'XML with a DOCTYPE or entity declaration is refused');
      } else {
        throw malformed(`unknown markup ${short(text.slice(lt, lt + 20))}`);
      }
    } else if (c1 === 0x3f /* ? */) {
      const end = piEnd(text, lt + 2);
      if (end === -1) throw malformed('an unterminated processing instruction');
      if (lt !== 0 && XML_DECLARATION.test(text.slice(lt, lt + 6))) throw malformed('an XML declaration after the start of the document');
      pos = end + 2;
    } else {
      const gt = tagEnd(text, lt + 1);
      if (gt === -1) throw malformed('a start tag is cut short');
      const selfClosing = text.charCodeAt(gt - 1) === 0x2f;
      const end = selfClosing ? gt - 1 : gt;
      let nameEnd = lt + 1;
      while (nameEnd < end && !isSpace(text.charCodeAt(nameEnd))) nameEnd++;
      const name = text.slice(lt + 1, nameEnd);
      if (!NAME.test(name)) throw malformed(`bad element name ${short(name)}`);
      if (nameEnd < end) checkAttributes(text, nameEnd, end, name);
      if (open.length === 0 && ++roots > 1) throw malformed('more than one root element');
      if (!selfClosing) {
        open.push(name);
        if (open.length > maxDepth) throw new NetfsError('PROTOCOL', `XML nested deeper than ${maxDepth} levels`);
      }
      pos = gt + 1;
    }
  }
  if (open.length > 0) throw malformed(`<${open[open.length - 1]}> is never closed (cut short?)`);
  if (roots === 0) throw malformed('no root element');
}

import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { checkXmlStructure } from './xml-scan.js';
import { MAX_XML_DEPTH, parseXml } from './xml.js';

const protocol = expect.objectContaining({ code: 'PROTOCOL' });

/** An answer shaped as Apache sends it: namespaces on each response, whitespace between elements. */
function apacheListing(files: number): string {
  const parts = ['<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:" xmlns:ns0="DAV:">\n'];
  for (let i = 0; i < files; i++) {
    parts.push(
      `<D:response xmlns:lp1="DAV:" xmlns:lp2="http://apache.org/dav/props/">\n<D:href>/dav/docs/f-${i}.txt</D:href>\n<D:propstat>\n<D:prop>\n` +
        `<lp1:resourcetype/>\n<lp1:getcontentlength>${i}</lp1:getcontentlength>\n<lp1:getetag>"${i}-617c3bb516840"</lp1:getetag>\n` +
        '<lp1:getlastmodified>Mon, 06 May 2024 07:08:09 GMT</lp1:getlastmodified>\n</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n</D:response>\n',
    );
  }
  parts.push('</D:multistatus>\n');
  return parts.join('');
}

describe('the structural scan that replaces the validation pass (B5, M3)', () => {
  it('accepts what a server sends: declaration, comments, PIs, CDATA, odd but legal spacing and quoting', () => {
    for (const xml of [
      apacheListing(3),
      '<a><!-- <b> --><?pi "?>" ?><![CDATA[</a><c>]]></a>',
      '<a\n x="1"\tb=\'>\' c = "y" ></a >',
      '<a/>',
      ' \r\n<a><b/><b></b></a>\n ',
    ]) {
      expect(() => checkXmlStructure(xml, MAX_XML_DEPTH), xml).not.toThrow();
    }
  });

  it.each([
    ['a closing tag that closes another element', '<a><b></a></b>'],
    ['a closing tag that closes nothing', '<a/></a>'],
    ['an element never closed', '<a><b></b>'],
    ['a start tag cut short', '<a><b x="1"'],
    ['an open quote', '<a x="1>'],
    ['an unterminated comment', '<a><!-- x </a>'],
    ['an unterminated CDATA section', '<a><![CDATA[ x </a>'],
    ['an unterminated processing instruction', '<a><?pi x </a>'],
    ['CDATA outside the root', '<![CDATA[x]]><a/>'],
    ['text before the root', 'x<a/>'],
    ['text after the root', '<a/>x'],
    ['a second root', '<a/><b/>'],
    ['no root at all', '<!-- only a comment -->'],
    ['a bad element name', '<1a/>'],
    ['an element name the parser would split (U+FEFF)', '<a\uFEFFb></a\uFEFFb>'],
    ['an element name the parser would split (U+1680)', '<a\u1680b/>'],
    ['a space after <', '< a/>'],
    ['a bad attribute name', '<a 1x="1"/>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['a boolean attribute', '<a x/>'],
    ['an attribute given twice', '<a x="1" x="2"/>'],
    ['an xmlns given twice', '<D:a xmlns:D="DAV:" xmlns:D="urn:x"/>'],
    ['< inside an attribute value', '<a x="<"/>'],
    ['a bad entity in an attribute value', '<a x="&nbsp;"/>'],
    ['attributes on a closing tag', '<a></a x="1">'],
    ['an XML declaration after the start', '<a/><?xml version="1.0"?>'],
    ['an XML declaration after whitespace', '\n<?xml version="1.0"?><a/>'],
    ['unknown markup', '<a><!ELEMENT a ANY></a>'],
  ])('refuses %s', (_name, xml) => {
    expect(() => checkXmlStructure(xml, MAX_XML_DEPTH)).toThrowError(protocol);
    expect(() => parseXml(xml)).toThrowError(protocol);
  });

  it.each([
    ['a DOCTYPE', '<?xml version="1.0"?><!DOCTYPE a><a/>'],
    ['a DOCTYPE after the root', '<a/><!DOCTYPE a>'],
    ['a bare ENTITY declaration', '<a><!ENTITY x "y"></a>'],
    ['a lower-case doctype inside the root', '<a><!doctype a></a>'],
  ])('M3: refuses %s as a DTD', (_name, xml) => {
    expect(() => checkXmlStructure(xml, MAX_XML_DEPTH)).toThrowError(/DOCTYPE or entity declaration/);
  });

  it('the depth cap counts open elements only (self-closing ones do not nest)', () => {
    const at = (n: number) => '<a>'.repeat(n) + '<b/>'.repeat(1000) + '</a>'.repeat(n);
    expect(() => checkXmlStructure(at(MAX_XML_DEPTH), MAX_XML_DEPTH)).not.toThrow();
    expect(() => checkXmlStructure(at(MAX_XML_DEPTH + 1), MAX_XML_DEPTH)).toThrow(new RegExp(`deeper than ${MAX_XML_DEPTH}`));
  });

  it('B5: every cut-short prefix of a listing fails, none parses to a partial listing', () => {
    const xml = apacheListing(4);
    const end = xml.lastIndexOf('>') + 1;
    for (let cut = 0; cut < end; cut++) {
      expect(() => parseXml(xml.slice(0, cut)), `cut at ${cut}`).toThrowError(protocol);
    }
    expect(parseXml(xml).children).toHaveLength(4);
  });

  it('B5: whatever fast-xml-parser\'s validator refuses, parseXml refuses too (random documents)', () => {
    const token = fc.constantFrom(
      '<a>', '</a>', '<b x="1">', '</b>', '<a/>', '<b/>', '<c y=\'2\' z="3"/>', 'text', ' ', '\n', '&amp;', '&#65;', '&bad;', '&', '>',
      '<', '"', "'", '=', '<![CDATA[x]]>', '<!-- c -->', '<?pi x?>', '<?xml version="1.0"?>', '<a x="1" x="2">', '<b x>', '</a x="1">',
      '<D:a xmlns:D="DAV:">', '</D:a>', '<D:b/>', '<!DOCTYPE a>', '<!', '<a x="<">', '</ a>', '<a\t>',
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 10 }), (tokens) => {
        const xml = tokens.join('');
        if (XMLValidator.validate(xml, { allowBooleanAttributes: false }) !== true) {
          expect(() => parseXml(xml), xml).toThrowError(protocol);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('B6: a 50,000-entry listing (22 MB) is scanned in well under a second', () => {
    const xml = apacheListing(50_000);
    const t0 = performance.now();
    checkXmlStructure(xml, MAX_XML_DEPTH);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

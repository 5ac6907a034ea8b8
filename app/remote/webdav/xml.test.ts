import { describe, expect, it } from 'vitest';
import { decodeUtf8Body, decodeXmlText, MAX_XML_DEPTH, parseXml } from './xml.js';

const ms = (inner: string) => `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">${inner}</D:multistatus>`;

describe('safe XML', () => {
  it('resolves namespaces: any prefix for DAV:, default namespaces, and foreign elements stay foreign', () => {
    const root = parseXml('<x:multistatus xmlns:x="DAV:"><response xmlns="DAV:"><href>/a</href></response><o:getetag xmlns:o="urn:other"/></x:multistatus>');
    expect(root).toMatchObject({ ns: 'DAV:', local: 'multistatus' });
    expect(root.children.map((c) => `${c.ns}|${c.local}`)).toEqual(['DAV:|response', 'urn:other|getetag']);
    expect(root.children[0]!.children[0]!.text).toBe('/a');
  });

  it('decodes the predefined entities and character references exactly once', () => {
    const root = parseXml(ms('<D:href>/a&amp;b&#65;&#x42;&lt;&amp;amp;&#38;#65;</D:href>'));
    expect(root.children[0]!.text).toBe('/a&bAB<&amp;&#65;');
    expect(decodeXmlText('&quot;&apos;&gt;')).toBe('"\'>');
    expect(() => decodeXmlText('&nbsp;')).toThrow(/undeclared entity/);
    expect(() => decodeXmlText('&#0;')).toThrow(/invalid character/);
  });

  it('keeps CDATA literally', () => {
    expect(parseXml(ms('<D:href><![CDATA[/a&amp;b]]></D:href>')).children[0]!.text).toBe('/a&amp;b');
  });

  describe('M3: XML bombs are refused fast, with nothing expanded', () => {
    const lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
      ']><D:multistatus xmlns:D="DAV:"><D:href>&lol9;</D:href></D:multistatus>';
    it.each([
      ['billion laughs', lol],
      ['quadratic blow-up', `<!DOCTYPE a [<!ENTITY a "${'x'.repeat(50_000)}">]><a>${'&a;'.repeat(50_000)}</a>`],
      ['external entity to a file', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'],
      ['external entity to a canary server', '<!DOCTYPE a [<!ENTITY x SYSTEM "http://127.0.0.1:1/canary">]><a>&x;</a>'],
      ['parameter entities', '<!DOCTYPE a [<!ENTITY % p "<!ENTITY x \'y\'>"> %p;]><a>&x;</a>'],
      ['lower-case doctype', '<!doctype a><a/>'],
    ])('%s', (_name, xml) => {
      const t0 = performance.now();
      expect(() => parseXml(xml)).toThrowError(expect.objectContaining({ code: 'PROTOCOL', message: expect.stringMatching(/DOCTYPE|entity/) }));
      expect(performance.now() - t0).toBeLessThan(1000);
    });

    it('a flood of &#65; references parses in linear time', () => {
      const t0 = performance.now();
      const root = parseXml(ms(`<D:href>${'&#65;'.repeat(200_000)}</D:href>`));
      expect(root.children[0]!.text.length).toBe(200_000);
      expect(performance.now() - t0).toBeLessThan(1000);
    });

    it('10^6 nested elements are refused (depth cap)', () => {
      const deep = '<a>'.repeat(1_000_000) + '</a>'.repeat(1_000_000);
      const t0 = performance.now();
      expect(() => parseXml(deep)).toThrow(new RegExp(`deeper than ${MAX_XML_DEPTH}`));
      expect(performance.now() - t0).toBeLessThan(1000);
    });
  });

  describe('B5: broken documents fail, never parse to an empty success', () => {
    it.each([
      ['empty', ''],
      ['cut short', ms('<D:response><D:href>/a</D:href>').slice(0, -20)],
      ['unclosed', '<D:multistatus xmlns:D="DAV:"><D:response>'],
      ['HTML', '<html><body><p>Login<br></p></body></html>'],
      ['two roots', '<a/><b/>'],
      ['undeclared prefix', '<X:multistatus/>'],
      ['declared non-UTF-8', '<?xml version="1.0" encoding="ISO-8859-1"?><a/>'],
    ])('%s', (_name, xml) => {
      expect(() => parseXml(xml)).toThrowError(expect.objectContaining({ code: 'PROTOCOL' }));
    });

    it('wrong charset: non-UTF-8 bytes or a non-UTF-8 Content-Type', () => {
      expect(() => decodeUtf8Body(Buffer.from([0x3c, 0x61, 0xe9, 0x3e]), 'text/xml')).toThrow(/not valid UTF-8/);
      expect(() => decodeUtf8Body(Buffer.from('<a/>'), 'text/xml; charset=iso-8859-1')).toThrow(/iso-8859-1/);
      expect(decodeUtf8Body(Buffer.from('<a>\u00e9</a>'), 'text/xml; charset="utf-8"')).toBe('<a>\u00e9</a>');
    });
  });
});

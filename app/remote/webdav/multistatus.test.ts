import { describe, expect, it } from 'vitest';
import { parseMultistatus, parseStatusLine, toEntry } from './multistatus.js';
import { parseXml } from './xml.js';

const doc = (inner: string) => parseXml(`<D:multistatus xmlns:D="DAV:">${inner}</D:multistatus>`);
const file = (extra = '') => `<D:response><D:href>/f</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>12</D:getcontentlength>${extra}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;

describe('multistatus (RFC 4918 §14.16)', () => {
  it('reads status lines', () => {
    expect(parseStatusLine('HTTP/1.1 404 Not Found')).toBe(404);
    expect(parseStatusLine('HTTP/2 200')).toBe(200);
    expect(parseStatusLine('garbage')).toBeNull();
  });

  it('builds a file entry from 2xx propstats only', () => {
    const [r] = parseMultistatus(doc(file('<D:getetag>"e1"</D:getetag><D:getlastmodified>Sun, 06 Nov 1994 08:49:37 GMT</D:getlastmodified>')));
    expect(toEntry(r!, '/f', 'f')).toEqual({
      entry: { path: '/f', name: 'f', kind: 'file', size: 12, etag: '"e1"', etagStrength: 'strong', mtimeMs: 784111777000, contentType: null },
    });
  });

  it('refuses a non-multistatus root', () => {
    expect(() => parseMultistatus(parseXml('<D:error xmlns:D="DAV:"/>'))).toThrow(/multistatus/);
  });

  describe('B4: entries with missing or failed properties', () => {
    it('a file without getcontentlength, or with garbage in it, is a problem', () => {
      const [a] = parseMultistatus(doc('<D:response><D:href>/f</D:href><D:propstat><D:prop><D:resourcetype/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>'));
      expect(toEntry(a!, '/f', 'f')).toMatchObject({ problem: 'MISSING_PROPERTIES' });
      const [b] = parseMultistatus(doc(file().replace('12', '-1')));
      expect(toEntry(b!, '/f', 'f')).toMatchObject({ problem: 'MISSING_PROPERTIES' });
    });

    it('an entry without resourcetype (or with it only in a 404 propstat) is a problem', () => {
      const [r] = parseMultistatus(doc('<D:response><D:href>/f</D:href><D:propstat><D:prop><D:getcontentlength>1</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat><D:propstat><D:prop><D:resourcetype/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>'));
      expect(toEntry(r!, '/f', 'f')).toMatchObject({ problem: 'MISSING_PROPERTIES', message: expect.stringContaining('404') });
    });

    it('a response with a 403 status inside the 207 is an entry problem', () => {
      const [r] = parseMultistatus(doc('<D:response><D:href>/f</D:href><D:status>HTTP/1.1 403 Forbidden</D:status></D:response>'));
      expect(toEntry(r!, '/f', 'f')).toMatchObject({ problem: 'ENTRY_STATUS', message: expect.stringContaining('403') });
    });

    it('a missing ETag or date stays null, never "unchanged"', () => {
      const [r] = parseMultistatus(doc(file('<D:getlastmodified>garbage</D:getlastmodified>')));
      expect(toEntry(r!, '/f', 'f')).toMatchObject({ entry: { etag: null, etagStrength: 'none', mtimeMs: null } });
    });

    it('properties of another namespace with DAV: names are not taken for DAV: ones', () => {
      const [r] = parseMultistatus(doc(file('<o:getetag xmlns:o="urn:o">"fake"</o:getetag>')));
      expect(toEntry(r!, '/f', 'f')).toMatchObject({ entry: { etag: null } });
    });
  });
});

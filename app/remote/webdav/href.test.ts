import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nameProblem } from '../path.js';
import { decodePathname, encodeSegment, resolveHref, resolveHrefByUrl, resolvePlainHref, toUrl } from './href.js';

const root = new URL('http://127.0.0.1:8080/dav/');
const folderUrl = toUrl(root, ['docs'], true);
const folder = ['dav', 'docs'];
const child = (href: string) => resolveHref(href, folderUrl, folder);

describe('B1: hrefs in every form decode to the same name, exactly once', () => {
  it('accepts encoded, unencoded, lower-case hex, absolute URL, absolute path and relative hrefs', () => {
    const forms = [
      '/dav/docs/a%20b%25c.txt',
      '/dav/docs/a b%25c.txt',
      '/dav/docs/a%20b%25c.txt/',
      'http://127.0.0.1:8080/dav/docs/a%20b%25c.txt',
      'a%20b%25c.txt',
      '/dav/%64ocs/a%20b%25c.txt',
    ];
    for (const href of forms) expect(child(href), href).toEqual({ kind: 'child', name: 'a b%c.txt' });
    expect(child('/dav/docs/%c3%a9')).toEqual({ kind: 'child', name: '\u00e9' });
    expect(child('/dav/docs/e%CC%81')).toEqual({ kind: 'child', name: 'e\u0301' });
    expect(child('/dav/docs/%2520')).toEqual({ kind: 'child', name: '%20' });
    expect(child('/dav/docs/%F0%9F%98%80')).toEqual({ kind: 'child', name: '\u{1F600}' });
    expect(child('/dav/docs/a%23b%3Fc%26d%2Be%3Bf%5Bg%5D')).toEqual({ kind: 'child', name: 'a#b?c&d+e;f[g]' });
  });

  it('recognises the folder itself with and without a trailing slash (never its own child)', () => {
    expect(child('/dav/docs/')).toEqual({ kind: 'self' });
    expect(child('/dav/docs')).toEqual({ kind: 'self' });
    expect(child('http://127.0.0.1:8080/dav/docs/')).toEqual({ kind: 'self' });
  });

  it('refuses an unencoded # or ? rather than cutting the name short', () => {
    expect(child('/dav/docs/a#b')).toMatchObject({ kind: 'problem', problem: 'BAD_NAME' });
    expect(child('/dav/docs/a?b')).toMatchObject({ kind: 'problem', problem: 'BAD_NAME' });
  });
});

describe('M1: hrefs that point outside the listed folder are dropped', () => {
  it.each([
    ['../x', 'OUTSIDE_FOLDER'],
    ['/dav/docs/../x', 'OUTSIDE_FOLDER'],
    ['%2e%2e/x', 'OUTSIDE_FOLDER'],
    ['/dav/docs/%2e%2e/%2e%2e/etc/passwd', 'OUTSIDE_FOLDER'],
    ['/dav/docs/..%2fx', 'BAD_NAME'],
    ['/dav/docs/a%2fb', 'BAD_NAME'],
    ['/dav/docs/..%5cx', 'BAD_NAME'],
    ['/dav/docs/a%00b', 'BAD_NAME'],
    ['/elsewhere/x', 'OUTSIDE_FOLDER'],
    ['http://other-host/dav/docs/x', 'OUTSIDE_FOLDER'],
    ['https://127.0.0.1:8080/dav/docs/x', 'OUTSIDE_FOLDER'],
    ['http://127.0.0.1:9999/dav/docs/x', 'OUTSIDE_FOLDER'],
    ['/dav/docs/a/b', 'OUTSIDE_FOLDER'],
    ['/dav/docs/%ff', 'BAD_NAME'],
    ['/dav/docs/%zz', 'BAD_NAME'],
    ['/dav/docs//x', 'BAD_NAME'],
    [`/dav/docs/${'n'.repeat(4096)}`, 'BAD_NAME'],
    ['/dav/documents/x', 'OUTSIDE_FOLDER'],
  ])('%s -> %s', (href, problem) => {
    expect(child(href)).toMatchObject({ kind: 'problem', problem });
  });
});

describe('P4: the path codec on any Unicode name', () => {
  it('decode(encode(name)) === name, and a resolved href never leaves the folder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), (a, b) => {
        for (const name of [a, b, a + '/' + b, '..', '.', a + '\\' + b, a + '\0']) {
          const r = child('/dav/docs/' + encodeSegment(name));
          if (nameProblem(name) === null) {
            expect(r).toEqual({ kind: 'child', name });
          } else {
            // Refused, or (for '', '.') the folder itself: never a child under another name.
            expect(r.kind).not.toBe('child');
          }
          const url = toUrl(root, ['docs', ...(nameProblem(name) === null ? [name] : [])], false);
          const d = decodePathname(url.pathname);
          expect('segments' in d && d.segments.slice(0, 2)).toEqual(['dav', 'docs']);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('two different names never map to the same URL (NFC and NFD stay apart)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 }), (a, b) => {
        fc.pre(a !== b);
        expect(encodeSegment(a)).not.toBe(encodeSegment(b));
      }),
    );
    expect(encodeSegment('caf\u00e9')).not.toBe(encodeSegment('cafe\u0301'));
  });
});

describe('B1, M1: the fast path for plain hrefs agrees with the URL parser', () => {
  it('answers for the hrefs a listing is made of, as the full path would', () => {
    for (const href of ['/dav/docs/', '/dav/docs/report-7.txt', '/dav/docs/sub/', "/dav/docs/a&b+c=d;e,f(g)!h'i*j~k$l@m:n"]) {
      const fast = resolvePlainHref(href, folderUrl, folder);
      expect(fast, href).not.toBeNull();
      expect(fast).toEqual(resolveHrefByUrl(href, folderUrl, folder));
    }
    expect(resolvePlainHref('/dav/docs/report-7.txt', folderUrl, folder)).toEqual({ kind: 'child', name: 'report-7.txt' });
  });

  it.each(['/dav/docs/a%20b', '/dav/docs/..', '/dav/docs/./', '/dav/docs/a/b', '/dav/docs/a?b', '/dav/docs/a#b', '/dav/docs//', '/dav/docs', ' /dav/docs/a', '/dav/docs/a\\b', '/dav/docs/a b'])(
    'leaves %s to the full path',
    (href) => {
      expect(resolvePlainHref(href, folderUrl, folder)).toBeNull();
    },
  );

  it('takes no fast path when the URL it was given is not the listed folder (a redirect elsewhere)', () => {
    expect(resolvePlainHref('/other/x', new URL('http://127.0.0.1:8080/other/'), folder)).toBeNull();
    expect(resolveHref('/other/x', new URL('http://127.0.0.1:8080/other/'), folder)).toMatchObject({ kind: 'problem', problem: 'OUTSIDE_FOLDER' });
  });

  it('on any href, whenever the fast path answers, the URL parser gives the same answer', () => {
    const piece = fc.constantFrom('/dav/docs/', '/dav/', 'docs', 'a', '.', '..', '/', '%2e', '%2F', '%20', ' ', '?', '#', '\\', '~', '&', ':', '@', '\u00e9', '\u0000', 'x'.repeat(300));
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 6 }), (parts) => {
        const href = parts.join('');
        const fast = resolvePlainHref(href, folderUrl, folder);
        if (fast !== null) expect(fast, href).toEqual(resolveHrefByUrl(href, folderUrl, folder));
        expect(resolveHref(href, folderUrl, folder)).toEqual(resolveHrefByUrl(href, folderUrl, folder));
      }),
      { numRuns: 3000 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { normaliseRoot, originOf, rootFromUrl } from './root-url.js';

describe('local root URL', () => {
  it('turns file:///abs/path URLs into normalised roots and origins', () => {
    expect(rootFromUrl('file:///srv/share')).toBe('/srv/share');
    expect(rootFromUrl('file:///srv/share/')).toBe('/srv/share');
    expect(rootFromUrl('file://localhost/srv/a%20b')).toBe('/srv/a b');
    expect(rootFromUrl('file:///srv/x/../share')).toBe('/srv/share');
    expect(rootFromUrl('file:///')).toBe('/');
    expect(rootFromUrl('file:/srv/minimal')).toBe('/srv/minimal');
    expect(originOf('/srv/share')).toBe('file:///srv/share');
    expect(originOf('/srv/a b#c?d%')).toBe('file:///srv/a%20b%23c%3Fd%25');
    expect(originOf('/')).toBe('file:///');
    expect(originOf(rootFromUrl(originOf('/srv/a b#c?d%')))).toBe('file:///srv/a%20b%23c%3Fd%25');
  });

  it('refuses URLs that are not file:, not absolute, not local, or ambiguous', () => {
    for (const bad of ['http://host/x', 'https://x/y', 'file:relative/path', 'file://nas/share', 'file:///a?b', 'file:///a#b', 'not a url', 'file:///a%2Fb']) {
      expect(() => rootFromUrl(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => normaliseRoot('relative/dir')).toThrow(/absolute/);
    expect(normaliseRoot('/a/b/')).toBe('/a/b');
  });
});

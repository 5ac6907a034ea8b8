import { describe, expect, it } from 'vitest';
import { baseName, childPath, joinRemotePath, nameProblem, parentPath, parseRemotePath } from './path.js';

describe('remote paths', () => {
  it('splits and joins clean paths byte for byte', () => {
    for (const p of ['/', '/a', '/docs/a b.txt', '/%41/#?&+;[]', '/caf\u00e9/cafe\u0301', '/\u{1F600}/x']) {
      expect(joinRemotePath(parseRemotePath(p))).toBe(p);
    }
    expect(parseRemotePath('/docs/a b.txt')).toEqual(['docs', 'a b.txt']);
  });

  it('refuses paths that are not clean, naming what is wrong', () => {
    for (const bad of ['', 'a', 'a/b', '/a/', '//', '/a//b', '/./a', '/a/..', '/a\\b', '/a\0b', '/\uD800x']) {
      expect(() => parseRemotePath(bad), bad).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(nameProblem('tab\there')).toMatch(/control character U\+0009/);
    expect(nameProblem('del\u007f')).toMatch(/U\+007F/);
    expect(nameProblem('x'.repeat(256))).toMatch(/256 bytes/);
    expect(nameProblem('\u00e9'.repeat(128))).toMatch(/256 bytes/);
    expect(nameProblem('\u00e9'.repeat(127))).toBeNull();
    // Around the short-name shortcut (3 bytes per code unit at most): 85 x 3-byte = 255 bytes, 86 = 258.
    expect(nameProblem('\u20ac'.repeat(85))).toBeNull();
    expect(nameProblem('\u20ac'.repeat(86))).toMatch(/258 bytes/);
    expect(nameProblem('\u{1F600}'.repeat(63) + 'abc')).toBeNull();
    expect(nameProblem('\u{1F600}'.repeat(64))).toMatch(/256 bytes/);
  });

  it('gives parent, base name and child paths', () => {
    expect(parentPath('/a/b')).toBe('/a');
    expect(parentPath('/a')).toBe('/');
    expect(baseName('/a/b c')).toBe('b c');
    expect(baseName('/')).toBe('');
    expect(childPath('/', 'x')).toBe('/x');
    expect(childPath('/a', 'x y')).toBe('/a/x y');
    expect(() => childPath('/a', '..')).toThrow(/not a name/);
    expect(() => parentPath('/')).toThrow(/root/);
  });
});

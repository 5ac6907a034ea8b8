import { describe, it, expect } from 'vitest';
import { ancestorsOf, depthOf, isAtOrUnder, nameOf, parentOf } from './tree-paths.js';

describe('tree path helpers', () => {
  it('cut remote paths without parsing them', () => {
    expect(parentOf('/a/b/c')).toBe('/a/b');
    expect(parentOf('/a')).toBe('/');
    expect(parentOf('/')).toBe('/');
    expect([depthOf('/'), depthOf('/a'), depthOf('/a/b c/d')]).toEqual([0, 1, 3]);
    expect(ancestorsOf('/a/b/c')).toEqual(['/a/b', '/a', '/']);
    expect(ancestorsOf('/')).toEqual([]);
    expect(nameOf('/a/b c')).toBe('b c');
    expect(nameOf('/')).toBe('');
  });

  it('isAtOrUnder respects name boundaries', () => {
    expect(isAtOrUnder('/a/b', '/a')).toBe(true);
    expect(isAtOrUnder('/a', '/a')).toBe(true);
    expect(isAtOrUnder('/ab', '/a')).toBe(false);
    expect(isAtOrUnder('/a', '/a/b')).toBe(false);
    expect(isAtOrUnder('/x', '/')).toBe(true);
  });
});

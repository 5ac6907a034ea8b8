import { describe, expect, it } from 'vitest';
import { cleanEtag, etagStrength, etagsMatchWeakly } from './etag.js';
import { conditionHeaders } from './backend.js';

describe('entity tags (RFC 9110 §8.8.3)', () => {
  it('tells strong, weak and malformed tags apart', () => {
    expect(etagStrength('"abc"')).toBe('strong');
    expect(etagStrength('""')).toBe('strong');
    expect(etagStrength('W/"abc"')).toBe('weak');
    expect(etagStrength('abc')).toBe('none');
    expect(etagStrength('"a"b"')).toBe('none');
    expect(etagStrength('w/"abc"')).toBe('none');
    expect(etagStrength(null)).toBe('none');
    expect(cleanEtag('  "x" ')).toBe('"x"');
    expect(cleanEtag('')).toBeNull();
  });

  it('compares weakly as RFC 9110 §8.8.3.2 says', () => {
    expect(etagsMatchWeakly('W/"1"', '"1"')).toBe(true);
    expect(etagsMatchWeakly('"1"', '"2"')).toBe(false);
    expect(etagsMatchWeakly(null, '"1"')).toBe(false);
  });

  it('never sends a weak or malformed tag in If-Match; dates stand in (F13)', () => {
    expect(conditionHeaders({ kind: 'match', etag: '"s"' })).toEqual({ 'if-match': '"s"' });
    expect(conditionHeaders({ kind: 'match', etag: 'W/"w"', mtimeMs: 784111777000 })).toEqual({
      'if-unmodified-since': 'Sun, 06 Nov 1994 08:49:37 GMT',
    });
    expect(conditionHeaders({ kind: 'match', etag: 'unquoted' })).toEqual({});
    expect(conditionHeaders({ kind: 'absent' })).toEqual({ 'if-none-match': '*' });
    expect(conditionHeaders({ kind: 'none' })).toEqual({});
  });
});

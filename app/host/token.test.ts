import { describe, expect, it } from 'vitest';
import { TOKEN_LENGTH, isTokenShaped, newToken, tokenMatches } from './token.js';

describe('the per-launch token (S10)', () => {
  it('is 256 random bits as 43 characters of base64url, new each time', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => newToken()));
    expect(tokens.size).toBe(200);
    for (const t of tokens) {
      expect(t).toHaveLength(TOKEN_LENGTH);
      expect(isTokenShaped(t)).toBe(true);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    }
  });

  it('matches only itself: not a prefix, not a longer string, not the same length with one character changed, not a non-string', () => {
    const t = newToken();
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(t.slice(0, -1), t)).toBe(false);
    expect(tokenMatches(`${t}A`, t)).toBe(false);
    const flipped = `${t.slice(0, 20)}${t[20] === 'A' ? 'B' : 'A'}${t.slice(21)}`;
    expect(flipped).toHaveLength(t.length);
    expect(tokenMatches(flipped, t)).toBe(false);
    expect(tokenMatches('', t)).toBe(false);
    expect(tokenMatches(undefined, t)).toBe(false);
    expect(tokenMatches(42, t)).toBe(false);
    // Multi-byte text of the right character count is a different byte length: refused, no throw.
    expect(tokenMatches('é'.repeat(TOKEN_LENGTH), t)).toBe(false);
  });
});

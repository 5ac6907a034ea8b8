// M6: RTL overrides and other bidi controls in names are made visible, the rest is untouched.
import { describe, expect, it } from 'vitest';
import { shown } from './text-safety.js';

describe('shown (M6)', () => {
  it('makes bidi controls visible', () => {
    expect(shown('invoice\u202Efdp.exe')).toBe('invoice[U+202E]fdp.exe');
    expect(shown('a\u2066b\u2069\u200F')).toBe('a[U+2066]b[U+2069][U+200F]');
  });
  it('leaves other text, markup-looking text included, as it is', () => {
    expect(shown('<img src=x onerror=alert(1)>.txt')).toBe('<img src=x onerror=alert(1)>.txt');
    expect(shown('שלום.txt')).toBe('שלום.txt');
  });
});

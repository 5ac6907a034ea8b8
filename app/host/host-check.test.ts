import { describe, expect, it } from 'vitest';
import { hostAllowed, originVerdict } from './host-check.js';

const PORT = 43117;

describe('Host allowlist (S8) and Origin check (S9)', () => {
  it('S8: only 127.0.0.1, [::1] and localhost with our port pass', () => {
    for (const ok of [`127.0.0.1:${PORT}`, `[::1]:${PORT}`, `localhost:${PORT}`, `LOCALHOST:${PORT}`]) expect(hostAllowed(ok, PORT)).toBe(true);
    for (const bad of [
      undefined,
      '',
      'evil.example',
      `evil.example:${PORT}`,
      `127.0.0.1.nip.io:${PORT}`,
      '127.0.0.1.nip.io',
      `127.0.0.1:${PORT + 1}`,
      '127.0.0.1',
      'localhost',
      `[::1]`,
      `localhost.:${PORT}`,
      `0.0.0.0:${PORT}`,
      `127.0.0.2:${PORT}`,
      `127.0.0.1:${PORT} `,
      `user@127.0.0.1:${PORT}`,
    ]) {
      expect(hostAllowed(bad, PORT), String(bad)).toBe(false);
    }
  });

  it('S9: no Origin is "none"; our own origins are "same"; anything else is foreign', () => {
    expect(originVerdict(undefined, PORT)).toBe('none');
    for (const same of [`http://127.0.0.1:${PORT}`, `http://localhost:${PORT}`, `http://[::1]:${PORT}`]) expect(originVerdict(same, PORT)).toBe('same');
    for (const foreign of [
      'null',
      '',
      'https://evil.example',
      `http://evil.example:${PORT}`,
      `https://127.0.0.1:${PORT}`,
      `http://127.0.0.1:${PORT + 1}`,
      `http://127.0.0.1.nip.io:${PORT}`,
      `http://127.0.0.1:${PORT}/path`,
      `http://user@127.0.0.1:${PORT}`,
      'file://',
    ]) {
      expect(originVerdict(foreign, PORT), foreign).toBe('foreign');
    }
  });
});

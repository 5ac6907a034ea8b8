import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, parseHttpDate, parseRetryAfter } from './http-date.js';

const T = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('B3: getlastmodified in every format a server uses', () => {
  it('parses the three HTTP-date forms, RFC 1123 with zones, and ISO 8601', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(T);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(T);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(T);
    expect(parseHttpDate('Sun, 06 Nov 1994 09:49:37 +0100')).toBe(T);
    expect(parseHttpDate('Sun, 6 Nov 1994 03:49:37 EST')).toBe(T);
    expect(parseHttpDate('1994-11-06T08:49:37Z')).toBe(T);
    expect(parseHttpDate('1994-11-06T09:49:37.250+01:00')).toBe(T + 250);
  });

  it('gives null (unknown) for empty, garbage and impossible dates, never a guess', () => {
    for (const bad of ['', '   ', 'yesterday', '0', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', 'Sun, 06 Foo 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 XYZ', null, undefined]) {
      expect(parseHttpDate(bad), String(bad)).toBeNull();
    }
  });
});

describe('F8: Retry-After', () => {
  it('takes seconds and HTTP-dates, and caps absurd values at one hour', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter(new Date(now + 10_000).toUTCString(), now)).toBe(10_000);
    expect(parseRetryAfter(new Date(now - 10_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('999999999')).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

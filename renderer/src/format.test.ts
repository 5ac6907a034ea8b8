import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatIn, formatRate, parseBytes, percent, plural } from './format.js';

describe('format', () => {
  it('bytes in decimal units with 3 significant digits', () => {
    expect([0, 999, 1000, 1234, 12_345, 123_456, 1_500_000, 2e9].map(formatBytes)).toEqual(['0 B', '999 B', '1.00 kB', '1.23 kB', '12.3 kB', '123 kB', '1.50 MB', '2.00 GB']);
    expect(formatRate(2_500_000)).toBe('2.50 MB/s');
    expect(formatBytes(Number.NaN)).toBe('—');
  });

  it('durations, countdowns, percents, plurals', () => {
    expect([0, 4_400, 65_000, 3_720_000, 3 * 86_400_000].map(formatDuration)).toEqual(['0 s', '4 s', '1 min 5 s', '1 h 2 min', '3 d 0 h']);
    expect(formatIn(10_000, 0)).toBe('in 10 s');
    expect(formatIn(100, 0)).toBe('now');
    expect(percent(1, 3)).toBe('33 %');
    expect(percent(1, 200)).toBe('0.5 %');
    expect(percent(1, 0)).toBe('0 %');
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(2, 'file')).toBe('2 files');
  });

  it('parses amounts people type: 500 MB, 2GB, 1.5 GiB, 1048576', () => {
    expect(parseBytes('500 MB')).toBe(500_000_000);
    expect(parseBytes('2GB')).toBe(2_000_000_000);
    expect(parseBytes('1.5 GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('1048576')).toBe(1_048_576);
    expect(parseBytes('2 k')).toBe(2000);
    expect(parseBytes('lots')).toBeNull();
    expect(parseBytes('-1 GB')).toBeNull();
  });
});

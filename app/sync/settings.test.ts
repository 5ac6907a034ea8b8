import { describe, it, expect } from 'vitest';
import { checkSettingKey, checkSettingValue, DEFAULT_SETTINGS, parseSettingValue, SETTING_KEYS } from './settings.js';

describe('settings (issue 5 item 7)', () => {
  it('has the documented defaults: 25 s backoff base, hourly rescan, a 30 s remote poll, 4 transfers, no limits', () => {
    expect(DEFAULT_SETTINGS).toEqual({ backoffBaseMs: 25_000, rescanIntervalMs: 3_600_000, debounceMs: 1000, remotePollMs: 30_000, transfers: 4, bandwidthUpBytesPerSec: 0, bandwidthDownBytesPerSec: 0, cacheLimitBytes: 0 });
    expect(SETTING_KEYS).toHaveLength(8);
  });

  it('parses what is typed on the command line, and refuses what does not fit, naming the key and the range', () => {
    expect(parseSettingValue('transfers', ' 8 ')).toBe(8);
    expect(parseSettingValue('backoffBaseMs', '1000')).toBe(1000);
    expect(() => parseSettingValue('transfers', '8x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'setting transfers must be a whole number, not "8x"' }));
    expect(() => parseSettingValue('transfers', '65')).toThrow(expect.objectContaining({ message: 'setting transfers must be a whole number from 1 to 64, not 65' }));
    expect(() => parseSettingValue('bandwidthUpBytesPerSec', '-1')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => checkSettingValue('debounceMs', '5')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('knows its keys', () => {
    expect(checkSettingKey('cacheLimitBytes')).toBe('cacheLimitBytes');
    expect(() => checkSettingKey('toString')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('unknown setting "toString"') }));
  });
});

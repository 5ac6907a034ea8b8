/**
 * The settings a state folder keeps in its journal (`netfs-sync config get|set`), with their
 * defaults and checks. Clocks are settings so tests can run them in seconds (issue 5 item 7).
 *
 *   key                        default      meaning
 *   backoffBaseMs              25000        first retry of a failed item; x5 each time, at most 24 h
 *   rescanIntervalMs           3600000      full local rescan (also covers a broken watcher, F16)
 *   debounceMs                 1000         quiet time after a local change before a pass
 *   remotePollMs               30000        how often the server is listed for its changes
 *   transfers                  4            transfers at once
 *   bandwidthUpBytesPerSec     0            0 = unlimited
 *   bandwidthDownBytesPerSec   0            0 = unlimited
 *   cacheLimitBytes            0            0 = the default: the smaller of 10 GiB and 10 % of the disk
 */
import { NetfsError } from '../api/errors.js';

export interface Settings {
  backoffBaseMs: number;
  rescanIntervalMs: number;
  debounceMs: number;
  remotePollMs: number;
  transfers: number;
  bandwidthUpBytesPerSec: number;
  bandwidthDownBytesPerSec: number;
  cacheLimitBytes: number;
}
export type SettingKey = keyof Settings;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  backoffBaseMs: 25_000,
  rescanIntervalMs: 3_600_000,
  debounceMs: 1_000,
  remotePollMs: 30_000,
  transfers: 4,
  bandwidthUpBytesPerSec: 0,
  bandwidthDownBytesPerSec: 0,
  cacheLimitBytes: 0,
});

/** The smallest and largest value each setting accepts (all are whole numbers). */
const RANGES: Readonly<Record<SettingKey, readonly [number, number]>> = {
  backoffBaseMs: [100, 86_400_000],
  rescanIntervalMs: [1_000, 7 * 86_400_000],
  debounceMs: [0, 600_000],
  remotePollMs: [1_000, 86_400_000],
  transfers: [1, 64],
  bandwidthUpBytesPerSec: [0, Number.MAX_SAFE_INTEGER],
  bandwidthDownBytesPerSec: [0, Number.MAX_SAFE_INTEGER],
  cacheLimitBytes: [0, Number.MAX_SAFE_INTEGER],
};

export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.prototype.hasOwnProperty.call(DEFAULT_SETTINGS, key);
}

export function checkSettingKey(key: string): SettingKey {
  if (!isSettingKey(key)) throw new NetfsError('INVALID_ARGUMENT', `unknown setting ${JSON.stringify(key)}; known: ${SETTING_KEYS.join(', ')}`);
  return key;
}

/** Checks a value for `key`; throws INVALID_ARGUMENT naming the key and the accepted range. */
export function checkSettingValue(key: SettingKey, value: unknown): number {
  const [min, max] = RANGES[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new NetfsError('INVALID_ARGUMENT', `setting ${key} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return value;
}

/** Parses a value typed on the command line ("25000", "4"); same checks. */
export function parseSettingValue(key: SettingKey, text: string): number {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) throw new NetfsError('INVALID_ARGUMENT', `setting ${key} must be a whole number, not ${JSON.stringify(text)}`);
  return checkSettingValue(key, Number(trimmed));
}

/**
 * How each setting is shown: a label, the unit people think in (seconds, MB, kB/s) and what
 * 0 means. Keys the host knows but this page does not are shown raw.
 */
export interface SettingMeta {
  label: string;
  unit: string;
  /** Stored value = shown value × scale. */
  scale: number;
  help: string;
  zero?: string;
  step?: number;
}

export const SETTING_META: Record<string, SettingMeta> = {
  bandwidthDownBytesPerSec: { label: 'Download limit', unit: 'kB/s', scale: 1000, help: 'Bandwidth for downloads.', zero: 'unlimited' },
  bandwidthUpBytesPerSec: { label: 'Upload limit', unit: 'kB/s', scale: 1000, help: 'Bandwidth for uploads.', zero: 'unlimited' },
  cacheLimitBytes: { label: 'Cache limit', unit: 'MB', scale: 1_000_000, help: 'Most the cache may hold; free-space thresholds on the disk apply too.', zero: 'the default (10 GB or 10 % of the disk, whichever is smaller)' },
  remotePollMs: { label: 'Check the server every', unit: 's', scale: 1000, help: 'How often the server is listed for changes made elsewhere.', step: 1 },
  transfers: { label: 'Transfers at once', unit: 'files', scale: 1, help: 'How many files move at the same time.' },
  debounceMs: { label: 'Wait after a change', unit: 's', scale: 1000, help: 'Quiet time after a local change before syncing it.', step: 0.1 },
  backoffBaseMs: { label: 'First retry after', unit: 's', scale: 1000, help: 'Wait before retrying a failed item; five times longer each time, at most a day.', step: 0.1 },
  rescanIntervalMs: { label: 'Full rescan every', unit: 'min', scale: 60_000, help: 'A full check of the sync folder, in case a change was missed.', step: 0.1 },
};

export const SETTING_ORDER = ['bandwidthDownBytesPerSec', 'bandwidthUpBytesPerSec', 'cacheLimitBytes', 'transfers', 'remotePollMs', 'debounceMs', 'backoffBaseMs', 'rescanIntervalMs'];

export function metaOf(key: string): SettingMeta {
  return SETTING_META[key] ?? { label: key, unit: '', scale: 1, help: '' };
}

export function toShown(key: string, stored: number): string {
  const m = metaOf(key);
  const v = stored / m.scale;
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3)));
}

/** The stored whole number for what was typed, or null when it is not a number. */
export function fromShown(key: string, text: string): number | null {
  const t = text.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  return Math.round(Number(t) * metaOf(key).scale);
}

export function sortedKeys(keys: readonly string[]): string[] {
  const known = SETTING_ORDER.filter((k) => keys.includes(k));
  return [...known, ...keys.filter((k) => !SETTING_ORDER.includes(k)).sort()];
}

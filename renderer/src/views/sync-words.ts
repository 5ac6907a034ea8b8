/**
 * The sync state in words and a tone (for colour): one place, used by the nav, the banners
 * and the overview.
 */
import type { SyncState } from '../../../app/api/contract.js';
import { formatClock } from '../format.js';

export type Tone = 'ok' | 'busy' | 'warn' | 'bad' | 'muted';

export function syncStateWords(s: SyncState): { short: string; tone: Tone } {
  switch (s.state) {
    case 'unconfigured':
      return { short: 'no account', tone: 'muted' };
    case 'idle':
      return { short: 'up to date', tone: 'ok' };
    case 'syncing':
      return { short: 'syncing…', tone: 'busy' };
    case 'paused':
      return { short: 'paused', tone: 'muted' };
    case 'offline':
      return { short: `offline since ${formatClock(s.sinceMs)}`, tone: 'warn' };
    case 'held':
      return { short: 'waiting for you', tone: 'warn' };
    case 'error':
      return { short: 'error', tone: 'bad' };
  }
}

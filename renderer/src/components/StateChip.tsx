/** The one-word entry state of DESIGN §1 as a coloured chip with a text label. */
import type { EntryState } from '../../../app/api/states.js';

const LABELS: Record<EntryState, string> = {
  error: 'error',
  conflicted: 'conflicted',
  pending: 'pending',
  partial: 'partly cached',
  cached: 'cached',
  'online-only': 'online-only',
  synced: 'synced',
};

export function stateLabel(state: string): string {
  return (LABELS as Record<string, string>)[state] ?? state;
}

export function StateChip({ state }: { state: string }) {
  return <span className={`chip chip-${state}`}>{stateLabel(state)}</span>;
}

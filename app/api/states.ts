/**
 * Placements, contents and flags of a synced entry (DESIGN §1): one vocabulary for the CLI,
 * the API and the UI.
 *
 *   placement   synced ("always on this device") | online-only
 *   content     (online-only files) none | partial | cached
 *   flags       pending | conflicted | error
 *
 *   label shown alone, by priority:
 *     error > conflicted > pending > partial | cached | online-only | synced
 */
import { z } from 'zod';

export const PLACEMENTS = ['synced', 'online-only'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export const CONTENTS = ['none', 'partial', 'cached'] as const;
export type Content = (typeof CONTENTS)[number];

export const ENTRY_FLAGS = ['pending', 'conflicted', 'error'] as const;
export type EntryFlag = (typeof ENTRY_FLAGS)[number];

/** The one-word label of an entry, in priority order (the first that applies wins). */
export const ENTRY_STATES = ['error', 'conflicted', 'pending', 'partial', 'cached', 'online-only', 'synced'] as const;
export type EntryState = (typeof ENTRY_STATES)[number];

export interface StateInputs {
  placement: Placement;
  /** For online-only files; ignored for synced entries and folders. */
  content: Content;
  flags: readonly EntryFlag[];
}

/** The label DESIGN §1 picks when one word is shown: error > conflicted > pending > content/placement. */
export function entryState(inputs: StateInputs): EntryState {
  if (inputs.flags.includes('error')) return 'error';
  if (inputs.flags.includes('conflicted')) return 'conflicted';
  if (inputs.flags.includes('pending')) return 'pending';
  if (inputs.placement === 'synced') return 'synced';
  if (inputs.content === 'partial') return 'partial';
  if (inputs.content === 'cached') return 'cached';
  return 'online-only';
}

export const placementSchema = z.enum(PLACEMENTS);
export const contentSchema = z.enum(CONTENTS);
export const entryFlagSchema = z.enum(ENTRY_FLAGS);
export const entryStateSchema = z.enum(ENTRY_STATES);

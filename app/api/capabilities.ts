/**
 * Capabilities before anything was seen, apart from remote.ts (its zod schemas): the backends'
 * probes start here, and the engine's download path does not load zod (as error-schema.ts).
 */
import type { Capabilities } from './remote.js';

/** Capabilities before anything was seen: every one false ("could not find out"). Probes start here. */
export function unprobedCapabilities(notes: string[] = []): Capabilities {
  return {
    ranges: false,
    etags: 'none',
    davClasses: [],
    ifMatchOnPut: false,
    ifNoneMatchOnPut: false,
    ifMatchOnDelete: false,
    folderEtagsPropagate: false,
    depthInfinity: false,
    notes,
  };
}

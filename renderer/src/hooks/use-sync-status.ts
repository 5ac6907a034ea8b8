/**
 * The sync status: the `sync.status` stream's latest snapshot, or, until the first one
 * arrives, the answer of the `sync.status` command.
 */
import type { SyncStatus } from '../../../app/api/contract.js';
import { useCommand } from './use-command.js';
import { useStream } from './use-stream.js';

export function useSyncStatus(): { status: SyncStatus | null; reload: () => void } {
  const live = useStream('sync.status');
  const asked = useCommand('sync.status', {}, { enabled: live === null, intervalMs: 5000 });
  return { status: live?.data ?? asked.value, reload: asked.reload };
}

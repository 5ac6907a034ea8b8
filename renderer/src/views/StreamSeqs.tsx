/**
 * The last sequence number seen on each event stream, as data attributes of a hidden element:
 * an in-app signal end-to-end tests wait on instead of sleeping (issue 8: "use in-app signals").
 */
import { useConnectionStatus, useStream } from '../hooks/use-stream.js';

export function StreamSeqs() {
  const status = useStream('sync.status');
  const transfers = useStream('transfers');
  const retries = useStream('retries');
  const cache = useStream('cache.occupancy');
  const log = useStream('log');
  const conn = useConnectionStatus();
  return (
    <div
      hidden
      data-testid="stream-seqs"
      data-connection={conn.state}
      data-sync-status={status?.seq ?? 0}
      data-transfers={transfers?.seq ?? 0}
      data-retries={retries?.seq ?? 0}
      data-cache-occupancy={cache?.seq ?? 0}
      data-log={log?.seq ?? 0}
    />
  );
}

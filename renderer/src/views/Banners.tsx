/**
 * What must not be missed, above every view: the connection to the app host is lost or was
 * refused; the server is offline (cached files still open); a plan is held for confirmation;
 * the cache was withdrawn.
 */
import { useSyncStatus } from '../hooks/use-sync-status.js';
import { useConnectionStatus, useStream } from '../hooks/use-stream.js';
import { useNow } from '../hooks/use-now.js';
import { formatClock, formatIn } from '../format.js';

export function Banners() {
  const conn = useConnectionStatus();
  const { status } = useSyncStatus();
  const cache = useStream('cache.occupancy');
  const now = useNow(1000);
  const withdrawn = cache?.data.summary?.withdrawn ?? null;
  const sync = status?.sync;
  return (
    <div className="banners" aria-live="polite">
      {conn.state === 'closed' && (
        <div className="banner banner-bad" role="status">
          Lost the connection to the app host ({conn.reason}). Reconnecting {formatIn(conn.retryAtMs, now)}… If netfs-sync serve was restarted, open the new
          address it printed.
        </div>
      )}
      {conn.state === 'connecting' && conn.attempt > 1 && (
        <div className="banner banner-warn" role="status">
          Reconnecting to the app host (attempt {conn.attempt})…
        </div>
      )}
      {conn.state === 'refused' && (
        <div className="banner banner-bad" role="alert">
          The app host refused this page: {conn.reason}
        </div>
      )}
      {sync?.state === 'offline' && (
        <div className="banner banner-warn" role="status" data-testid="offline-banner">
          <strong>Offline</strong> since {formatClock(sync.sinceMs)}: <span className="server-text">{sync.lastError}</span>. Next try {formatIn(sync.nextTryMs, now)}.
          Cached files still open; your changes wait and go up when the server is back.
        </div>
      )}
      {sync?.state === 'held' && (
        <div className="banner banner-warn" role="status">
          <strong>Sync is waiting for you:</strong> <span className="server-text">{sync.message}</span> <a href="#/overview">Review the plan</a>
        </div>
      )}
      {withdrawn !== null && (
        <div className="banner banner-bad" role="status">
          <strong>The cache is switched off</strong> since {formatClock(withdrawn.at)} (<span className="server-text">{withdrawn.reason}</span>). Files still open from
          the server, but nothing new is kept for offline use.
        </div>
      )}
    </div>
  );
}

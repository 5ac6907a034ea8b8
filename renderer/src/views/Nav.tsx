/**
 * The list of views as labelled links, with live counts: transfers running, problems waiting.
 */
import { useCommand } from '../hooks/use-command.js';
import { useStream } from '../hooks/use-stream.js';
import { useSyncStatus } from '../hooks/use-sync-status.js';
import { VIEWS, type ViewId } from '../routes.js';
import { syncStateWords } from './sync-words.js';

export function Nav({ current }: { current: ViewId }) {
  const transfers = useStream('transfers');
  const retries = useStream('retries');
  const { status } = useSyncStatus();
  const configured = status !== null && status.sync.state !== 'unconfigured';
  const conflicts = useCommand('conflicts.list', {}, { refreshOn: 'sync.status', minGapMs: 5000, enabled: configured });
  const badges: Partial<Record<ViewId, number>> = {
    transfers: transfers?.data.transfers.length ?? 0,
    problems: (retries?.data.failures.length ?? 0) + (conflicts.value?.length ?? 0),
  };
  const words = status === null ? null : syncStateWords(status.sync);
  return (
    <nav className="nav" aria-label="Views">
      <div className="brand">
        <span className="brand-name">netfs-sync</span>
        {words !== null && (
          <span className={`brand-state tone-${words.tone}`} aria-live="polite">
            {words.short}
          </span>
        )}
      </div>
      <ul>
        {VIEWS.map((v) => {
          const n = badges[v.id] ?? 0;
          return (
            <li key={v.id}>
              <a href={`#/${v.id}`} aria-current={v.id === current ? 'page' : undefined} className={v.id === current ? 'current' : undefined}>
                <span>{v.label}</span>
                {n > 0 && (
                  <span className={`badge${v.id === 'transfers' ? ' badge-info' : ''}`} aria-label={`${n} ${v.id === 'transfers' ? 'running' : 'waiting'}`}>
                    {n}
                  </span>
                )}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

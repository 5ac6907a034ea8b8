/**
 * "Why is this file in this state": the explanation in words, then the facts it rests on
 * (placement, content, flags, base ETag, server change time, size, cached ranges, last error,
 * next retry).
 */
import type { EntryInfo } from '../../../app/api/entries.js';
import { ExtentBar } from '../components/ExtentBar.js';
import { StateChip } from '../components/StateChip.js';
import { explainState } from '../explain-state.js';
import { formatBytes, formatDateTime } from '../format.js';
import { useNow } from '../hooks/use-now.js';

export function WhyPanel({ entry }: { entry: EntryInfo }) {
  const now = useNow(1000);
  return (
    <div className="why" data-testid="why-panel">
      <p>
        <StateChip state={entry.state} />
      </p>
      <ul className="plain-list explain">
        {explainState(entry, now).map((line) => (
          <li key={line} className="server-text">
            {line}
          </li>
        ))}
      </ul>
      <dl className="facts">
        <dt>Placement</dt>
        <dd>{entry.placement}</dd>
        {entry.kind === 'file' && (
          <>
            <dt>Content</dt>
            <dd>{entry.content}</dd>
          </>
        )}
        <dt>Flags</dt>
        <dd>{entry.flags.length === 0 ? 'none' : entry.flags.join(', ')}</dd>
        <dt>Size</dt>
        <dd>{entry.size === null ? 'unknown' : formatBytes(entry.size)}</dd>
        <dt>Changed on the server</dt>
        <dd>{formatDateTime(entry.mtimeMs)}</dd>
        <dt>Base ETag</dt>
        <dd className="mono server-text ellipsis" title={entry.baseEtag ?? ''}>
          {entry.baseEtag ?? 'none'}
        </dd>
        <dt>Last error</dt>
        <dd className="server-text">{entry.lastError === null ? 'none' : `${entry.lastError.code}: ${entry.lastError.message}`}</dd>
        <dt>Next retry</dt>
        <dd>{formatDateTime(entry.nextRetryMs)}</dd>
      </dl>
      {entry.kind === 'file' && entry.size !== null && entry.size > 0 && (
        <div>
          <h4>Cached ranges</h4>
          <ExtentBar size={entry.size} extents={entry.cachedRanges} label={entry.name} />
        </div>
      )}
    </div>
  );
}

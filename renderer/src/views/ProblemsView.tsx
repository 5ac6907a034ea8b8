/**
 * Retries and failures: items failing with their next try counting down, the timeline of
 * request-level retries (backoff, Retry-After), and conflicts to resolve.
 */
import { ErrorNote } from '../components/ErrorNote.js';
import { useCommand } from '../hooks/use-command.js';
import { useNow } from '../hooks/use-now.js';
import { useStream } from '../hooks/use-stream.js';
import { ConflictsList } from './ConflictsList.js';
import { FailuresList } from './FailuresList.js';
import { RetryTimeline } from './RetryTimeline.js';

export function ProblemsView() {
  const live = useStream('retries');
  const failures = useCommand('failures.list', {}, { enabled: live === null });
  const conflicts = useCommand('conflicts.list', {}, { refreshOn: 'sync.status', minGapMs: 2000 });
  const now = useNow(1000);
  const list = live?.data.failures ?? failures.value ?? [];
  return (
    <div className="problems">
      <h1>Retries &amp; conflicts</h1>
      <section className="card" aria-labelledby="pr-failing">
        <h2 id="pr-failing">Failing ({list.length})</h2>
        <ErrorNote error={failures.error} />
        <FailuresList failures={list} now={now} onRetried={failures.reload} />
      </section>
      <section className="card" aria-labelledby="pr-timeline">
        <h2 id="pr-timeline">Request retries</h2>
        <RetryTimeline retries={live?.data.requestRetries ?? []} now={now} />
      </section>
      <section className="card" aria-labelledby="pr-conflicts">
        <h2 id="pr-conflicts">Conflicts ({conflicts.value?.length ?? 0})</h2>
        <ErrorNote error={conflicts.error} />
        <ConflictsList conflicts={conflicts.value ?? []} onResolved={conflicts.reload} />
      </section>
    </div>
  );
}

/**
 * "Free up N GB": the next objects culling would remove (least recently used first, never one
 * in use), and a preview of exactly which would go for the amount typed, before anything is
 * removed; then cache.cullNow down to (used − N).
 */
import { useState } from 'react';
import { asCandidate, wouldGo, type Candidate } from '../cache-model.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatBytes, formatDateTime, parseBytes } from '../format.js';
import { useAction } from '../hooks/use-action.js';
import { useCommand } from '../hooks/use-command.js';
import { shown } from '../text-safety.js';

export function FreeUpSpace({ usedBytes, onDone }: { usedBytes: number; onDone: () => void }) {
  const next = useCommand('cache.nextToCull', { n: 1000 }, { refreshOn: 'cache.occupancy', minGapMs: 3000 });
  const [amount, setAmount] = useState('');
  const [preview, setPreview] = useState<{ want: number; go: Candidate[] } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const cull = useAction('cache.cullNow', (v) => {
    setDone(`Removed ${v.culled.toLocaleString()} objects from the cache.`);
    setPreview(null);
    onDone();
  });
  const candidates = (next.value ?? []).map(asCandidate);
  const want = parseBytes(amount);
  const showPreview = () => {
    if (want === null) return;
    setDone(null);
    setPreview({ want, go: wouldGo(candidates, want) });
  };
  const previewBytes = preview?.go.reduce((s, c) => s + c.bytes, 0) ?? 0;
  return (
    <section className="card" aria-labelledby="cache-free">
      <h2 id="cache-free">Free up space</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          showPreview();
        }}
      >
        <label htmlFor="free-amount">Free up</label>
        <input id="free-amount" type="text" inputMode="decimal" placeholder="e.g. 2 GB" value={amount} onChange={(e) => setAmount(e.currentTarget.value)} aria-describedby="free-hint" />
        <button type="submit" disabled={want === null}>
          Preview
        </button>
        <span id="free-hint" className="muted small">
          {amount !== '' && want === null ? 'Type an amount such as 500 MB or 2 GB.' : 'Nothing is removed until you confirm.'}
        </span>
      </form>
      {preview !== null && (
        <div className="preview-box" aria-live="polite">
          <p>
            These {preview.go.length.toLocaleString()} files would leave the cache, freeing {formatBytes(previewBytes)}
            {previewBytes < preview.want && ` (all that can go now: less than the ${formatBytes(preview.want)} asked)`}. Synced files stay on disk; online-only ones then need
            the server to open.
          </p>
          <ul className="plain-list">
            {preview.go.slice(0, 50).map((c) => (
              <li key={c.key}>
                <span className="path server-text">{shown(c.key)}</span> <span className="muted">{formatBytes(c.bytes)}</span>
              </li>
            ))}
          </ul>
          {preview.go.length > 50 && <p className="muted">… and {preview.go.length - 50} more.</p>}
          <div className="actions">
            <button type="button" className="danger" disabled={cull.busy || preview.go.length === 0} onClick={() => void cull.run({ targetBytes: Math.max(0, usedBytes - preview.want) })}>
              Remove them
            </button>
            <button type="button" onClick={() => setPreview(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {done !== null && <p role="status">{done}</p>}
      <ErrorNote error={cull.error ?? next.error} />
      <h3>Next to go when the cache needs room</h3>
      {candidates.length === 0 ? (
        <p className="muted">Nothing can be culled now (empty, or everything is in use).</p>
      ) : (
        <ol className="plain-list" data-testid="next-to-cull">
          {candidates.slice(0, 10).map((c) => (
            <li key={c.key}>
              <span className="path server-text">{shown(c.key)}</span> <span className="muted">
                {formatBytes(c.bytes)}, last used {formatDateTime(c.atime)}
                {c.staging ? ', staging' : ''}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

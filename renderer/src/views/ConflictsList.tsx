/**
 * Conflicts (DESIGN §6: the server's version keeps the name, ours became a conflicted copy),
 * resolved one by one or in bulk: keep ours (our copy replaces the server's), keep theirs (our
 * copy goes to the trash), keep both (two files, conflict cleared).
 */
import { useState } from 'react';
import type { ConflictInfo } from '../../../app/api/entries.js';
import type { ErrorShape } from '../../../app/api/errors.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatBytes, formatDateTime, formatShortDate } from '../format.js';
import { useConnection } from '../hooks/connection-context.js';
import { shown } from '../text-safety.js';

type Keep = 'ours' | 'theirs' | 'both';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const KEEP_LABEL: Record<Keep, string> = { ours: 'Keep mine', theirs: 'Keep theirs', both: 'Keep both' };

export function ConflictsList({ conflicts, onResolved }: { conflicts: readonly ConflictInfo[]; onResolved: () => void }) {
  const { client } = useConnection();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Array<{ path: string; error: ErrorShape }>>([]);

  const resolve = async (paths: readonly string[], keep: Keep) => {
    setBusy(true);
    const failed: Array<{ path: string; error: ErrorShape }> = [];
    for (const path of paths) {
      const r = await client['conflicts.resolve']({ path, keep });
      if (!r.ok) failed.push({ path, error: r.error });
    }
    setBusy(false);
    setErrors(failed);
    setSelected(new Set());
    onResolved();
  };
  if (conflicts.length === 0) return <p className="muted" data-testid="no-conflicts">No conflicts.</p>;
  const all = selected.size === conflicts.length;
  const toggle = (p: string) => {
    const next = new Set(selected);
    if (next.has(p)) next.delete(p);
    else next.add(p);
    setSelected(next);
  };
  return (
    <div>
      <p className="muted">
        When a file changed here and on the server, the server’s version keeps the name and yours is saved beside it as a conflicted copy.
      </p>
      <div className="actions bulk" role="group" aria-label="Resolve the selected conflicts">
        <span>{selected.size} selected</span>
        {(['ours', 'theirs', 'both'] as const).map((k) => (
          <button key={k} type="button" disabled={busy || selected.size === 0} onClick={() => void resolve([...selected], k)}>
            {KEEP_LABEL[k]} for selected
          </button>
        ))}
      </div>
      <div className="table-scroll">
        <table className="table" data-testid="conflicts">
          <colgroup>
            <col className="w-check" />
            <col />
            <col />
            <col className="w-size" />
            <col className="w-short" />
            <col className="w-actions3" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">
                <input type="checkbox" aria-label="Select all conflicts" checked={all} onChange={() => setSelected(all ? new Set() : new Set(conflicts.map((c) => c.path)))} />
              </th>
              <th scope="col">File (server’s version)</th>
              <th scope="col">Your copy</th>
              <th scope="col">Your version</th>
              <th scope="col">Since</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {conflicts.map((c) => (
              <tr key={c.path} data-testid="conflict" data-path={c.path}>
                <td>
                  <input type="checkbox" aria-label={`Select ${shown(c.path)}`} checked={selected.has(c.path)} onChange={() => toggle(c.path)} />
                </td>
                <td className="path server-text ellipsis" title={shown(c.path)}>
                  {shown(c.path)}
                </td>
                <td className="path server-text" title={shown(c.copyPath)}>
                  <div className="clamp">{shown(baseName(c.copyPath))}</div>
                </td>
                <td>
                  {formatBytes(c.ourSize)}
                  <div className="muted small" title={formatDateTime(c.ourMtimeMs)}>
                    changed {formatShortDate(c.ourMtimeMs)}
                  </div>
                </td>
                <td title={formatDateTime(c.createdMs)}>{formatShortDate(c.createdMs)}</td>
                <td>
                  <div className="row-actions">
                    {(['ours', 'theirs', 'both'] as const).map((k) => (
                      <button key={k} type="button" disabled={busy} onClick={() => void resolve([c.path], k)} aria-label={`${KEEP_LABEL[k]}: ${shown(c.path)}`}>
                        {KEEP_LABEL[k]}
                      </button>
                    ))}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {errors.map((e) => (
        <ErrorNote key={e.path} error={e.error} label={e.path} />
      ))}
    </div>
  );
}

/** The trash: what sync removed, with "Restore" (trash.restore says where it went back to). */
import { useState } from 'react';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatBytes, formatDateTime } from '../format.js';
import { useAction } from '../hooks/use-action.js';
import { useCommand } from '../hooks/use-command.js';
import { shown } from '../text-safety.js';

export function TrashList() {
  const trash = useCommand('trash.list', {}, { refreshOn: 'sync.status', minGapMs: 3000 });
  const [note, setNote] = useState<string | null>(null);
  const restore = useAction('trash.restore', (v) => {
    setNote(v.message);
    trash.reload();
  });
  const items = trash.value ?? [];
  return (
    <section className="card" aria-labelledby="files-trash">
      <h2 id="files-trash">Trash ({items.length})</h2>
      <ErrorNote error={trash.error ?? restore.error} />
      {note !== null && (
        <p role="status" className="server-text">
          {note}
        </p>
      )}
      {items.length === 0 ? (
        <p className="muted">The trash is empty.</p>
      ) : (
        <div className="table-scroll short">
          <table className="table compact" data-testid="trash">
            <thead>
              <tr>
                <th scope="col">Was at</th>
                <th scope="col">Size</th>
                <th scope="col">Removed</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td className="path server-text ellipsis" title={shown(t.originalPath)}>
                    {shown(t.originalPath)}
                  </td>
                  <td className="num">{t.kind === 'folder' ? 'folder' : formatBytes(t.size)}</td>
                  <td>{formatDateTime(t.deletedMs)}</td>
                  <td>
                    <button type="button" disabled={restore.busy} onClick={() => void restore.run({ id: t.id })} aria-label={`Restore ${shown(t.originalPath)}`}>
                      Restore
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

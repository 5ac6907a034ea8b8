/**
 * A plan the engine held for confirmation (DESIGN §6: it would delete or replace more than half
 * of the synced files, or the sync root vanished): why, a preview of every action, and
 * "Go ahead" (sync.confirm).
 */
import { ErrorNote } from '../components/ErrorNote.js';
import { useAction } from '../hooks/use-action.js';
import { useCommand } from '../hooks/use-command.js';
import { shown } from '../text-safety.js';

const SHOWN = 200;

/** The planner's action types in words (app/sync model). */
const ACTION_WORDS: Record<string, string> = {
  download: 'download',
  upload: 'upload',
  'mkdir-local': 'new folder here',
  'mkdir-remote': 'new folder on the server',
  'delete-local': 'delete here (to the trash)',
  'delete-remote': 'delete on the server',
  'move-remote': 'move on the server',
  'move-local': 'move here (renamed on the server)',
  conflict: 'conflict copy',
  compare: 'compare',
  record: 'record as synced',
  forget: 'forget',
  'record-online-only': 'list as online-only',
};

export function actionWords(type: string): string {
  return ACTION_WORDS[type] ?? type;
}

export function HeldPlan({ reason, message, onConfirmed }: { reason: string; message: string; onConfirmed: () => void }) {
  const preview = useCommand('sync.preview', {});
  const confirm = useAction('sync.confirm', onConfirmed);
  const actions = preview.value?.actions ?? [];
  const hold = preview.value?.hold ?? null;
  return (
    <section className="card held" aria-labelledby="held-title">
      <h2 id="held-title">Sync is waiting for you</h2>
      <p className="server-text">{message}</p>
      <p className="muted">
        Reason: <span className="server-text">{reason}</span>
        {hold !== null && ` — ${hold.affected.toLocaleString()} of ${hold.synced.toLocaleString()} synced files would be deleted or replaced.`}
      </p>
      <ErrorNote error={preview.error} label="Preview" />
      {preview.value !== null && (
        <details open={actions.length <= 20}>
          <summary>The plan: {actions.length.toLocaleString()} actions</summary>
          <ul className="plan-list">
            {actions.slice(0, SHOWN).map((a, i) => (
              <li key={`${i}-${shown(a.path)}`}>
                <span className={`plan-type plan-${a.type}`}>{actionWords(a.type)}</span> <span className="path server-text">{shown(a.path)}</span>
                {a.from !== undefined && (
                  <span className="muted">
                    {' '}
                    from <span className="server-text">{shown(a.from)}</span>
                  </span>
                )}
              </li>
            ))}
          </ul>
          {actions.length > SHOWN && <p className="muted">… and {(actions.length - SHOWN).toLocaleString()} more.</p>}
        </details>
      )}
      <div className="actions">
        <button type="button" className="danger" onClick={() => void confirm.run({})} disabled={confirm.busy}>
          {confirm.busy ? 'Confirming…' : 'Go ahead with this plan'}
        </button>
        <span className="muted">Or fix the cause (restore the folder, check the server) and press “Sync now”.</span>
      </div>
      <ErrorNote error={confirm.error} label="Confirm" />
    </section>
  );
}

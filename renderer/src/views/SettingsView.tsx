/**
 * Settings: the account (or "add account"), and every setting of the state folder with
 * friendly units (bandwidth limits, cache limit, transfers, clocks), each saved on its own.
 */
import { useState } from 'react';
import { ErrorNote } from '../components/ErrorNote.js';
import { useAction } from '../hooks/use-action.js';
import { useCommand } from '../hooks/use-command.js';
import { sortedKeys } from '../settings-meta.js';
import { AddAccountForm } from './AddAccountForm.js';
import { SettingRow } from './SettingRow.js';

function AccountSection() {
  const account = useCommand('account.get', {});
  const [confirming, setConfirming] = useState(false);
  const remove = useAction('account.remove', () => {
    setConfirming(false);
    account.reload();
  });
  if (account.value === null) {
    return account.loading ? <p className="muted">Loading…</p> : <AddAccountForm onAdded={account.reload} />;
  }
  const a = account.value;
  return (
    <section className="card" aria-labelledby="st-account">
      <h2 id="st-account">Account</h2>
      <dl className="facts">
        <dt>Server</dt>
        <dd className="server-text ellipsis" title={a.remote}>
          {a.remote}
        </dd>
        <dt>User</dt>
        <dd className="server-text">{a.user ?? '(none)'}</dd>
        <dt>Sync folder</dt>
        <dd className="server-text ellipsis" title={a.local}>
          {a.local}
        </dd>
      </dl>
      {confirming ? (
        <div className="actions" role="group" aria-label="Confirm removing the account">
          <span>Remove this account? Files in the sync folder stay; the journal and the cache of this account are removed.</span>
          <button type="button" className="danger" onClick={() => void remove.run({ confirm: true })} disabled={remove.busy}>
            Remove
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <div className="actions">
          <button type="button" onClick={() => setConfirming(true)}>
            Remove account…
          </button>
        </div>
      )}
      <ErrorNote error={account.error ?? remove.error} />
    </section>
  );
}

export function SettingsView() {
  const settings = useCommand('settings.get', {});
  const [latest, setLatest] = useState<Record<string, number> | null>(null);
  const values = latest ?? settings.value;
  return (
    <div className="settings">
      <h1>Settings</h1>
      <AccountSection />
      <section className="card" aria-labelledby="st-sync">
        <h2 id="st-sync">Sync and transfers</h2>
        <ErrorNote error={settings.error} />
        {values === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <div className="settings-list" data-testid="settings">
            {sortedKeys(Object.keys(values)).map((k) => (
              <SettingRow key={k} name={k} stored={values[k] ?? 0} onSaved={setLatest} />
            ))}
          </div>
        )}
      </section>
    </div>
  );
}

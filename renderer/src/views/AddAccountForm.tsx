/**
 * "Add account" on a state folder without one: server address, user, password, sync folder;
 * "Test connection" probes the server (account.test) and says in plain words what it lacks;
 * "Add account" tests first when the fields changed since the last test, then account.add.
 */
import { useState, type FormEvent } from 'react';
import type { Capabilities } from '../../../app/api/remote.js';
import { capabilityLines } from '../capability-words.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { useAction } from '../hooks/use-action.js';

interface Fields {
  remote: string;
  user: string;
  password: string;
  local: string;
}

export function AddAccountForm({ onAdded }: { onAdded: () => void }) {
  const [fields, setFields] = useState<Fields>({ remote: '', user: '', password: '', local: '' });
  const [tested, setTested] = useState<{ key: string; caps: Capabilities } | null>(null);
  const test = useAction('account.test');
  const add = useAction('account.add', onAdded);
  const key = JSON.stringify([fields.remote, fields.user, fields.password]);
  const request = { remote: fields.remote.trim(), user: fields.user === '' ? null : fields.user, password: fields.password === '' ? null : fields.password };

  const runTest = async (): Promise<boolean> => {
    const r = await test.run(request);
    if (r.ok) setTested({ key, caps: r.value.capabilities });
    return r.ok;
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (tested?.key !== key && !(await runTest())) return;
    await add.run({ ...request, local: fields.local.trim() });
  };
  const set = (k: keyof Fields) => (e: { currentTarget: { value: string } }) => setFields({ ...fields, [k]: e.currentTarget.value });
  const caps = tested?.key === key ? tested.caps : null;
  return (
    <section className="card add-account" aria-labelledby="add-account-title">
      <h2 id="add-account-title">Add an account</h2>
      <p className="muted">This state folder has no account yet. Give the server (a WebDAV address, or a local folder as file:///…) and the folder to keep in sync.</p>
      <form onSubmit={(e) => void submit(e)} className="form-grid">
        <label htmlFor="acct-remote">Server address</label>
        <input id="acct-remote" type="text" required placeholder="https://cloud.example.com/remote.php/dav/files/me/" value={fields.remote} onChange={set('remote')} autoComplete="url" />
        <label htmlFor="acct-user">User name</label>
        <input id="acct-user" type="text" value={fields.user} onChange={set('user')} autoComplete="username" />
        <label htmlFor="acct-password">Password</label>
        <input id="acct-password" type="password" value={fields.password} onChange={set('password')} autoComplete="current-password" />
        <label htmlFor="acct-local">Sync folder on this computer</label>
        <input id="acct-local" type="text" required placeholder="/home/me/Sync" value={fields.local} onChange={set('local')} />
        <div className="form-actions">
          <button type="button" onClick={() => void runTest()} disabled={test.busy || fields.remote.trim() === ''}>
            {test.busy ? 'Testing…' : 'Test connection'}
          </button>
          <button type="submit" className="primary" disabled={add.busy || test.busy}>
            {add.busy ? 'Adding…' : 'Add account'}
          </button>
        </div>
      </form>
      <ErrorNote error={test.error} label="Connection test" />
      <ErrorNote error={add.error} label="Adding the account" />
      {caps !== null && (
        <div className="capabilities" aria-live="polite">
          <h3>What this server does</h3>
          <ul>
            {capabilityLines(caps, fields.remote).map((l) => (
              <li key={l.text} className={l.ok ? 'cap-ok' : 'cap-lacks'}>
                <span className="cap-mark" aria-hidden="true">{l.ok ? '✓' : '!'}</span> {l.text}
              </li>
            ))}
          </ul>
          {caps.notes.length > 0 && (
            <ul className="notes">
              {caps.notes.map((n) => (
                <li key={n} className="server-text">{n}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}

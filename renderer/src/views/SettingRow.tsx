/** One setting: its value in the unit people think in, "Save" sends settings.set and shows what the host kept. */
import { useEffect, useState } from 'react';
import { ErrorNote } from '../components/ErrorNote.js';
import { useAction } from '../hooks/use-action.js';
import { fromShown, metaOf, toShown } from '../settings-meta.js';

export function SettingRow({ name, stored, onSaved }: { name: string; stored: number; onSaved: (all: Record<string, number>) => void }) {
  const meta = metaOf(name);
  const [text, setText] = useState(() => toShown(name, stored));
  const [saved, setSaved] = useState(false);
  const save = useAction('settings.set', (all) => {
    setSaved(true);
    onSaved(all);
  });
  useEffect(() => setText(toShown(name, stored)), [name, stored]);
  const value = fromShown(name, text);
  const changed = value !== null && value !== stored;
  const id = `setting-${name}`;
  return (
    <form
      className="setting"
      onSubmit={(e) => {
        e.preventDefault();
        if (value !== null) void save.run({ key: name, value });
      }}
    >
      <label htmlFor={id}>{meta.label}</label>
      <span className="setting-input">
        <input
          id={id}
          name={name}
          type="text"
          inputMode="decimal"
          value={text}
          onChange={(e) => {
            setText(e.currentTarget.value);
            setSaved(false);
          }}
          aria-describedby={`${id}-help`}
          aria-invalid={value === null}
        />
        <span className="unit">{meta.unit}</span>
      </span>
      <button type="submit" disabled={!changed || save.busy}>
        Save
      </button>
      <span id={`${id}-help`} className="muted small setting-help">
        {meta.help}
        {meta.zero !== undefined && ` 0 = ${meta.zero}.`}
        {value === null && ' Type a number.'}
        {saved && !changed && <span className="ok"> Saved.</span>}
      </span>
      {save.error !== null && (
        <div className="setting-error">
          <ErrorNote error={save.error} />
        </div>
      )}
    </form>
  );
}

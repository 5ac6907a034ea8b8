/**
 * Files: the remote tree one folder at a time (breadcrumbs), each entry with its state, keep
 * here (pin) / free up (unpin), open (hydrates); a side panel with a preview and "why is this
 * in this state"; the trash with restore. The list is virtualised (100,000 entries stay fast).
 */
import { useState } from 'react';
import type { EntryInfo } from '../../../app/api/entries.js';
import type { ErrorShape } from '../../../app/api/errors.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { VirtualList } from '../components/VirtualList.js';
import { useConnection } from '../hooks/connection-context.js';
import { useCommand } from '../hooks/use-command.js';
import { FilePreview } from './FilePreview.js';
import { FileRow } from './FileRow.js';
import { TrashList } from './TrashList.js';
import { WhyPanel } from './WhyPanel.js';
import { shown } from '../text-safety.js';

function crumbs(path: string): Array<{ name: string; path: string }> {
  const out = [{ name: 'All files', path: '/' }];
  let at = '';
  for (const part of path.split('/').filter((p) => p !== '')) {
    at += `/${part}`;
    out.push({ name: part, path: at });
  }
  return out;
}

function sortEntries(list: readonly EntryInfo[]): EntryInfo[] {
  return [...list].sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
}

export function FilesView() {
  const { client } = useConnection();
  const [folder, setFolder] = useState('/');
  const [selected, setSelected] = useState<EntryInfo | null>(null);
  const [tab, setTab] = useState<'preview' | 'why'>('preview');
  const [busy, setBusy] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [actionError, setActionError] = useState<ErrorShape | null>(null);
  const list = useCommand('files.list', { path: folder, recursive: false }, { refreshOn: 'sync.status', minGapMs: 2000 });
  const entries = sortEntries(list.value ?? []);
  const current = selected === null ? null : (entries.find((e) => e.path === selected.path) ?? selected);

  const act = async (e: EntryInfo, what: 'pin' | 'unpin' | 'open') => {
    setBusy(e.path);
    setNote(null);
    setActionError(null);
    const r = what === 'pin' ? await client['files.pin']({ path: e.path }) : what === 'unpin' ? await client['files.unpin']({ path: e.path }) : await client['files.open']({ path: e.path });
    setBusy(null);
    if (!r.ok) setActionError(r.error);
    else if ('localPath' in r.value) setNote(`${shown(e.name)} is on this device: ${r.value.localPath}`);
    else setNote(`${shown(e.name)} is now ${r.value.placement === 'synced' ? 'kept on this device' : 'online-only'}.`);
    list.reload();
  };
  const open = (path: string) => {
    setFolder(path);
    setSelected(null);
  };
  const select = (e: EntryInfo) => {
    setSelected(e);
    setTab(e.kind === 'folder' ? 'why' : 'preview');
  };

  return (
    <div className="files">
      <h1>Files</h1>
      <nav aria-label="Folder path" className="crumbs">
        <ol>
          {crumbs(folder).map((c, i, all) => (
            <li key={c.path}>
              {i === all.length - 1 ? (
                <span aria-current="location" className="server-text">
                  {shown(c.name)}
                </span>
              ) : (
                <button type="button" className="link server-text" onClick={() => open(c.path)}>
                  {shown(c.name)}
                </button>
              )}
            </li>
          ))}
        </ol>
      </nav>
      <ErrorNote error={list.error ?? actionError} />
      {note !== null && (
        <p role="status" className="server-text note">
          {note}
        </p>
      )}
      <div className="files-split">
        <section className="card files-list" aria-label={`Contents of ${folder}`}>
          <div className="file-row file-head" role="row">
            <span role="columnheader">Name</span>
            <span role="columnheader">State</span>
            <span role="columnheader" className="num">
              Size
            </span>
            <span role="columnheader">Changed</span>
            <span role="columnheader">
              <span className="sr-only">Actions</span>
            </span>
          </div>
          {list.value === null ? (
            <p className="muted">{list.loading ? 'Loading…' : ''}</p>
          ) : entries.length === 0 ? (
            <p className="muted">This folder is empty.</p>
          ) : (
            <VirtualList
              items={entries}
              rowHeight={40}
              height={Math.min(440, entries.length * 40 + 2)}
              label="Files"
              keyOf={(e) => e.path}
              render={(e) => (
                <FileRow
                  entry={e}
                  selected={current?.path === e.path}
                  busy={busy === e.path}
                  onOpenFolder={open}
                  onSelect={select}
                  onPin={(x) => void act(x, 'pin')}
                  onUnpin={(x) => void act(x, 'unpin')}
                  onOpen={(x) => void act(x, 'open')}
                />
              )}
            />
          )}
          <p className="muted small">{entries.length.toLocaleString()} entries</p>
        </section>
        <aside className="card files-side" aria-label="Selected file">
          {current === null ? (
            <p className="muted">Select a file to preview it and see why it is in its state.</p>
          ) : (
            <>
              <h2 className="ellipsis server-text" title={shown(current.path)}>
                {shown(current.name)}
              </h2>
              <div role="tablist" aria-label="About the selected file" className="tabs">
                {current.kind === 'file' && (
                  <button type="button" role="tab" aria-selected={tab === 'preview'} onClick={() => setTab('preview')}>
                    Preview
                  </button>
                )}
                <button type="button" role="tab" aria-selected={tab === 'why'} onClick={() => setTab('why')}>
                  Why this state?
                </button>
              </div>
              <div role="tabpanel">{tab === 'preview' && current.kind === 'file' ? <FilePreview entry={current} /> : <WhyPanel entry={current} />}</div>
            </>
          )}
        </aside>
      </div>
      <TrashList />
    </div>
  );
}

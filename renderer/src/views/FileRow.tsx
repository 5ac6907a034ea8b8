/**
 * One entry of the file list: name (a folder opens, a file selects), state, size, server
 * change time, and its actions: keep on this device (pin) or free up space (unpin), open.
 */
import type { EntryInfo } from '../../../app/api/entries.js';
import { StateChip } from '../components/StateChip.js';
import { FileIcon } from '../components/FileIcon.js';
import { formatBytes, formatDateTime, formatShortDate } from '../format.js';
import { shown } from '../text-safety.js';

export interface FileRowProps {
  entry: EntryInfo;
  selected: boolean;
  busy: boolean;
  onOpenFolder: (path: string) => void;
  onSelect: (entry: EntryInfo) => void;
  onPin: (entry: EntryInfo) => void;
  onUnpin: (entry: EntryInfo) => void;
  onOpen: (entry: EntryInfo) => void;
}

export function FileRow({ entry: e, selected, busy, onOpenFolder, onSelect, onPin, onUnpin, onOpen }: FileRowProps) {
  const folder = e.kind === 'folder';
  return (
    <div className={`file-row${selected ? ' selected' : ''}`} data-testid="file-row" data-name={e.name} data-state={e.state}>
      <span className="file-name" role="cell">
        <FileIcon folder={folder} />
        <button type="button" className="link ellipsis" title={shown(e.name)} onClick={() => (folder ? onOpenFolder(e.path) : onSelect(e))} aria-label={folder ? `Open folder ${shown(e.name)}` : `Show ${shown(e.name)}`}>
          {shown(e.name)}
        </button>
      </span>
      <span role="cell">
        <StateChip state={e.state} />
      </span>
      <span className="num" role="cell">
        {folder || e.size === null ? '' : formatBytes(e.size)}
      </span>
      <span className="muted nowrap" role="cell" title={formatDateTime(e.mtimeMs)}>
        {formatShortDate(e.mtimeMs)}
      </span>
      <span className="row-actions" role="cell">
        {e.placement === 'online-only' ? (
          <button type="button" disabled={busy} onClick={() => onPin(e)} aria-label={`Always keep ${shown(e.name)} on this device`}>
            Keep here
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => onUnpin(e)} aria-label={`Free up space: make ${shown(e.name)} online-only`}>
            Free up
          </button>
        )}
        {!folder && (
          <button type="button" disabled={busy} onClick={() => onOpen(e)} aria-label={`Open ${shown(e.name)}`}>
            Open
          </button>
        )}
        {folder && (
          <button type="button" className="link" onClick={() => onSelect(e)} aria-label={`Why is ${shown(e.name)} in this state`}>
            Why?
          </button>
        )}
      </span>
    </div>
  );
}

/**
 * What the cache holds, per folder and per file: a bar of the cached extents over each file's
 * length, with in-use and staging marks; a filter by path; the biggest folders first.
 */
import { useState } from 'react';
import type { CacheObjectView } from '../../../app/api/contract.js';
import { ExtentBar } from '../components/ExtentBar.js';
import { byFolder } from '../cache-model.js';
import { formatBytes, formatDateTime, formatShortDate, percent } from '../format.js';
import { shown } from '../text-safety.js';

const SHOWN = 300;

export function CacheObjects({ objects }: { objects: readonly CacheObjectView[] }) {
  const [filter, setFilter] = useState('');
  const matching = objects.filter((o) => filter === '' || o.key.toLowerCase().includes(filter.toLowerCase()));
  const folders = byFolder(matching);
  return (
    <>
      <section className="card" aria-labelledby="cache-folders">
        <h2 id="cache-folders">By folder</h2>
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Folder</th>
              <th scope="col">Files</th>
              <th scope="col">Cached</th>
              <th scope="col" className="bar-col">
                Of their size
              </th>
            </tr>
          </thead>
          <tbody>
            {folders.slice(0, 50).map((f) => (
              <tr key={f.folder}>
                <td className="path server-text ellipsis" title={shown(f.folder)}>
                  {shown(f.folder)}
                </td>
                <td className="num">{f.objects}</td>
                <td className="num">{formatBytes(f.stored)}</td>
                <td className="bar-col">
                  <ExtentBar size={Math.max(1, f.size)} extents={[[0, Math.min(f.size, f.stored)]]} label={`${shown(f.folder)}: ${percent(f.stored, f.size)} cached`} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="cache-files">
        <h2 id="cache-files">Files in the cache ({objects.length.toLocaleString()})</h2>
        <label className="inline-field">
          Filter by path <input type="search" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <table className="table compact" data-testid="cache-objects">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Cached</th>
              <th scope="col" className="bar-col">
                Cached ranges over the file
              </th>
              <th scope="col">Marks</th>
              <th scope="col">Last used</th>
            </tr>
          </thead>
          <tbody>
            {matching.slice(0, SHOWN).map((o) => (
              <tr key={o.key} data-testid="cache-object" data-key={o.key} data-stored={o.storedBytes} data-size={o.objectSize}>
                <td className="path server-text ellipsis" title={shown(o.key)}>
                  {shown(o.key)}
                </td>
                <td className="num">
                  {formatBytes(o.storedBytes)} of {formatBytes(o.objectSize)}
                </td>
                <td className="bar-col">
                  <ExtentBar size={o.objectSize} extents={o.extents} label={o.key} inUse={o.inUse} staging={o.staging} />
                </td>
                <td>
                  {o.inUse && <span className="tag tag-inuse">in use</span>}
                  {o.staging && <span className="tag tag-staging">staging</span>}
                  {o.dirty && <span className="tag tag-dirty">being written</span>}
                </td>
                <td className="nowrap" title={formatDateTime(o.atime)}>
                  {formatShortDate(o.atime)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {matching.length > SHOWN && <p className="muted">Showing {SHOWN} of {matching.length.toLocaleString()}; filter to find others.</p>}
      </section>
    </>
  );
}

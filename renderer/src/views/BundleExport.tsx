/**
 * "Export support bundle": the host builds it (config without secrets, counters, recent trace
 * and logs; paths replaced by pseudonyms unless the user opts in); it is shown here in full
 * before it is saved, then saved through a Blob link.
 */
import { useEffect, useState } from 'react';
import { ErrorNote } from '../components/ErrorNote.js';
import { formatBytes } from '../format.js';
import { useAction } from '../hooks/use-action.js';

export function BundleExport() {
  const [includePaths, setIncludePaths] = useState(false);
  const [bundle, setBundle] = useState<{ fileName: string; json: string } | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  const make = useAction('diagnostics.bundle', setBundle);
  useEffect(() => {
    if (bundle === null) return;
    const u = URL.createObjectURL(new Blob([bundle.json], { type: 'application/json' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [bundle]);
  return (
    <div>
      <div className="actions">
        <label className="check">
          <input type="checkbox" checked={includePaths} onChange={(e) => setIncludePaths(e.currentTarget.checked)} /> Include real file paths (otherwise
          each path is replaced by a consistent pseudonym)
        </label>
        <button type="button" onClick={() => void make.run({ includePaths })} disabled={make.busy}>
          {make.busy ? 'Preparing…' : 'Prepare bundle'}
        </button>
      </div>
      <ErrorNote error={make.error} />
      {bundle !== null && (
        <div className="preview-box" data-testid="bundle-preview">
          <p>
            This is exactly what will be saved as <span className="mono server-text">{bundle.fileName}</span> ({formatBytes(bundle.json.length)}). Read it
            before you send it.
          </p>
          <pre className="bundle mono" tabIndex={0} aria-label="Support bundle contents">
            {bundle.json}
          </pre>
          <div className="actions">
            {url !== null && (
              <a className="button primary" href={url} download={bundle.fileName}>
                Save the bundle
              </a>
            )}
            <button type="button" onClick={() => setBundle(null)}>
              Discard
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

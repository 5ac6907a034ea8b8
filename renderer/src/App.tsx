/**
 * The app frame: a labelled navigation of the views on the left, banners for the connection
 * and the offline state on top, the chosen view below.
 *
 *   ┌ nav ─────────┬ banners ─────────────────────────┐
 *   │ Overview     │ view                             │
 *   │ Transfers …  │                                  │
 */
import { useEffect, useState } from 'react';
import { Banners } from './views/Banners.js';
import { CacheView } from './views/CacheView.js';
import { DiagnosticsView } from './views/DiagnosticsView.js';
import { FilesView } from './views/FilesView.js';
import { Nav } from './views/Nav.js';
import { OverviewView } from './views/OverviewView.js';
import { ProblemsView } from './views/ProblemsView.js';
import { SettingsView } from './views/SettingsView.js';
import { StreamSeqs } from './views/StreamSeqs.js';
import { TransfersView } from './views/TransfersView.js';
import { viewFromHash, VIEWS, type ViewId } from './routes.js';

function View({ id }: { id: ViewId }) {
  switch (id) {
    case 'overview':
      return <OverviewView />;
    case 'transfers':
      return <TransfersView />;
    case 'cache':
      return <CacheView />;
    case 'problems':
      return <ProblemsView />;
    case 'files':
      return <FilesView />;
    case 'diagnostics':
      return <DiagnosticsView />;
    case 'settings':
      return <SettingsView />;
  }
}

export function App() {
  const [view, setView] = useState<ViewId>(() => viewFromHash(window.location.hash));
  useEffect(() => {
    // Only view addresses (#/name) switch views; the skip link's #main does not.
    const onHash = () => {
      if (window.location.hash.startsWith('#/')) setView(viewFromHash(window.location.hash));
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const label = VIEWS.find((v) => v.id === view)?.label ?? '';
  useEffect(() => {
    document.title = `${label} · netfs-sync`;
  }, [label]);
  return (
    <div className="app">
      <StreamSeqs />
      <Nav current={view} />
      <div className="app-main">
        <Banners />
        <main className="view" id="main" aria-label={label} tabIndex={-1}>
          <View id={view} />
        </main>
      </div>
    </div>
  );
}

/**
 * Entry point: connect to whichever host carries this page, then show the app (or say plainly
 * why it cannot start).
 */
// First: switches zod to jitless before any schema of the contract is built.
import './client/strict-csp.js';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { connectFromPage } from './client/connect.js';
import { ConnectionContext } from './hooks/connection-context.js';
import './styles/base.css';
import './styles/components.css';
import './styles/views.css';

const root = document.getElementById('root');
if (root !== null) {
  const started = connectFromPage();
  createRoot(root).render(
    started.ok ? (
      <ConnectionContext.Provider value={started.connection}>
        <App />
      </ConnectionContext.Provider>
    ) : (
      <main className="start-failed">
        <h1>netfs-sync</h1>
        <p role="alert">{started.reason}</p>
      </main>
    ),
  );
}

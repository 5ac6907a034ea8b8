/**
 * The Electron entry point (package.json "main": dist/main/main.js). Everything is in app.ts;
 * this file only starts it.
 */
import { app } from 'electron';
import { runApp } from './app.js';

runApp().catch((e: unknown) => {
  process.stderr.write(`netfs-sync: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  app.exit(1);
});

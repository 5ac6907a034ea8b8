// Before any browser starts: Debian Chromium must be there, and the app must be built (the
// engine into dist/app, the renderer into dist/renderer), since the tests run the real
// `node dist/app/cli/netfs-sync.js serve`. NETFS_E2E_SKIP_BUILD=1 skips the build (npm test has
// just built it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REPO } from './support/paths.js';

const CHROMIUM = '/usr/bin/chromium';

export async function globalSetup(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  if (process.env['NETFS_E2E_SKIP_BUILD'] === '1' && existsSync(`${REPO}/dist/renderer/index.html`) && existsSync(`${REPO}/dist/app/cli/netfs-sync.js`)) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status ?? r.signal})`);
}

// eslint-disable-next-line no-restricted-syntax -- Playwright runs the module's default export
export default globalSetup;

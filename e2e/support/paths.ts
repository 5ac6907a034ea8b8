// Where things are: the checkout, the built CLI, the screenshots folder.
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const CLI = `${REPO}/dist/app/cli/netfs-sync.js`;
export const SCREENSHOTS = `${REPO}/test-output/screenshots`;

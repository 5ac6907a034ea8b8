#!/usr/bin/env node
// `npm start` (after `npm run build`): the Electron window where Electron can run, else the
// headless host on the demo profile, saying why in one line. The decision is in launch.mjs,
// unit-tested in launch.test.ts; this script is tested by running it (launch.test.ts too).
//
//   planLaunch --electron--> <electron binary> <repo> [args]        (exit code passed on)
//              --headless--> one line why --> node dist/app/cli/netfs-sync.js demo
//                                              (or how to run `netfs-sync serve`)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { headlessCommand, headlessLine, planLaunch } from './launch.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);

/**
 * Runs `command`, passing on Ctrl-C and termination, and exits with its code.
 * @param {string} command
 * @param {string[]} argv
 */
function run(command, argv) {
  const child = spawn(command, argv, { cwd: root, stdio: 'inherit' });
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}

const plan = planLaunch(root);
if (plan.kind === 'electron') {
  run(plan.binary, [root, ...args]);
} else {
  process.stdout.write(`${headlessLine(plan.reason)}\n`);
  const command = headlessCommand(root);
  if (command !== null) {
    run(process.execPath, [...command, ...args]);
  } else {
    process.stdout.write('netfs-sync: the demo command is not built yet; run the headless host with: node dist/app/cli/netfs-sync.js serve --state DIR\n');
    process.exit(1);
  }
}

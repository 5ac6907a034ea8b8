#!/usr/bin/env node
/**
 * The `netfs-sync` executable (package.json "bin"; built to dist/app/cli/netfs-sync.js by
 * `npm run build`). Everything is in program.ts; this only binds it to the process.
 */
import { processIo } from './io.js';
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), processIo());
process.exitCode = code;

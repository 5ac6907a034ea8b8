/**
 * netfs-sync init --state DIR --remote URL --local DIR [--user NAME] [--password-env VAR] [--ca FILE]
 *
 *   check the URL (scheme, plain http off-loopback refused) -> connect: list the root
 *   (AUTH -> exit 1, UNREACHABLE -> exit 3) -> probe capabilities -> write the state folder
 */
import type { Command } from 'commander';
import { NetfsError, isNetfsError } from '../../api/errors.js';
import { saveCapabilities } from '../../sync/capabilities-cache.js';
import { checkRemoteUrl, probeRemote } from '../../sync/remote-of.js';
import { initStateFolder } from '../../sync/state-folder.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

interface InitOptions {
  state: string;
  remote: string;
  local: string;
  user?: string;
  passwordEnv?: string;
  ca?: string;
}

export function registerInit(program: Command, io: CliIo, exit: (code: number) => void): void {
  program
    .command('init')
    .description('set up a state folder for one account: a remote folder and a local sync folder')
    .requiredOption('--state <dir>', 'state folder (created, mode 0700)')
    .requiredOption('--remote <url>', 'http(s):// WebDAV folder URL, or file:///path of a local folder')
    .requiredOption('--local <dir>', 'the local sync folder (created if missing)')
    .option('--user <name>', 'user name for the server')
    .option('--password-env <var>', 'name of the environment variable holding the password')
    .option('--ca <file>', 'PEM file with the CA certificate of a server with a private certificate')
    .action(async (o: InitOptions) => {
      try {
        checkRemoteUrl(o.remote);
      } catch (e) {
        // A URL refused before anything is sent is bad usage of --remote (exit 2).
        if (isNetfsError(e)) throw new NetfsError('INVALID_ARGUMENT', `--remote: ${e.message}`);
        throw e;
      }
      let password: string | null = null;
      if (o.passwordEnv !== undefined) {
        const value = io.env[o.passwordEnv];
        if (value === undefined) throw new NetfsError('INVALID_ARGUMENT', `--password-env: the environment variable ${o.passwordEnv} is not set`);
        password = value;
      }
      const spec = { remote: o.remote, user: o.user ?? null, password, ca: o.ca ?? null };
      const caps = await probeRemote(spec);
      const state = await initStateFolder(o.state, { remote: o.remote, local: o.local, user: spec.user, password, ca: spec.ca });
      await saveCapabilities(state.dir, o.remote, caps);
      io.out(`initialised ${state.dir}\n  remote ${o.remote}\n  local  ${state.account.local}\n`);
      for (const note of caps.notes) io.out(`  server: ${note}\n`);
      exit(EXIT.OK);
    });
}

/**
 * The `netfs-sync` command line (commander): parses, dispatches, maps failures to exit codes.
 *
 *   argv --commander--> command action --> Promise<exit code>
 *          |                    | throws NetfsError{code}
 *          | usage error -> 2    +--> stderr "netfs-sync: <message>" + exitCodeFor(code)
 *
 * Every command is in commands/<name>.ts; this file only wires them.
 */
import { Command, CommanderError } from 'commander';
import { isNetfsError } from '../api/errors.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { CliIo } from './io.js';
import { registerCommands } from './commands/index.js';

export const VERSION = '0.1.0';

/** Runs one invocation; resolves with the exit code (never calls process.exit). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.OK;
  const program = new Command('netfs-sync')
    .description('Two-way folder sync with a WebDAV server or a local folder, through a netfs engine and a content cache.')
    .version(VERSION)
    .showHelpAfterError('(run "netfs-sync help" for the commands)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerCommands(program, io, (c) => {
    code = c;
  });
  program.commands.forEach((c) => c.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) }));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (isNetfsError(e)) {
      io.err(`netfs-sync: ${e.message}\n`);
      return exitCodeFor(e.code);
    }
    io.err(`netfs-sync: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.FAILURE;
  }
}

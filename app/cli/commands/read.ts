/**
 * netfs-sync read --state DIR PATH [--offset N] [--length N]
 *
 * Writes the server's version of PATH (or a range) to stdout through the engine: from the
 * synced local copy when the journal says it is unchanged, else the cache, else the server.
 * Runs beside a running sync (no engine lock). Offline with the range not wholly available
 * locally: writes nothing, exits 3.
 */
import type { Command } from 'commander';
import { readFile } from '../../sync/read-file.js';
import { SyncSession } from '../../sync/session.js';
import { nonNegativeInt, remotePathArg } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

export function registerRead(program: Command, io: CliIo, exit: (code: number) => void): void {
  program
    .command('read <path>')
    .description("write the server's version of a file (or a range of it) to stdout")
    .requiredOption('--state <dir>', 'state folder')
    .option('--offset <n>', 'first byte', '0')
    .option('--length <n>', 'bytes (default: to the end)')
    .action(async (pathArg: string, o: { state: string; offset: string; length?: string }) => {
      const path = remotePathArg(pathArg);
      const offset = nonNegativeInt('--offset', o.offset);
      const length = o.length === undefined ? null : nonNegativeInt('--length', o.length);
      const session = await SyncSession.open(o.state, { engine: true, lock: 'if-free' });
      try {
        await readFile(session, path, {
          offset,
          length,
          consumer: {
            // Copied: the engine reuses its buffers once deliver() settles.
            deliver: async (_fpos, views) => {
              for (const v of views) await io.outBytes(Uint8Array.from(v));
            },
          },
        });
        exit(EXIT.OK);
      } finally {
        await session.close();
      }
    });
}

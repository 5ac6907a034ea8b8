/**
 * Every `netfs-sync` command, registered on the program in the order `help` lists them.
 */
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { registerInit } from './init.js';
import { registerSync } from './sync.js';
import { registerRead } from './read.js';
import { registerCacheStats } from './cache-stats.js';
import { registerJournalCommands } from './journal-commands.js';
import { registerServe } from './serve.js';

export function registerCommands(program: Command, io: CliIo, exit: (code: number) => void): void {
  registerInit(program, io, exit);
  registerSync(program, io, exit);
  registerJournalCommands(program, io, exit);
  registerRead(program, io, exit);
  registerCacheStats(program, io, exit);
  registerServe(program, io, exit);
}

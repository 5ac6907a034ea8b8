/**
 * Commands that read or change only the journal and the sync folder; they work offline and
 * beside a running engine:
 *
 *   status    account, engine pid, counts per state, failures, conflicts, last sync
 *   ls        entries with their states (DESIGN §1)
 *   pin/unpin placement of a folder or file (children inherit; undiscovered paths too)
 *   conflicts / resolve --keep ours|theirs|both
 *   trash ls|restore
 *   config get|set
 */
import type { Command } from 'commander';
import { NetfsError } from '../../api/errors.js';
import type { EntryInfo, StatusInfo } from '../../api/entries.js';
import { ENTRY_STATES, type EntryState } from '../../api/states.js';
import { cachedLookup, listEntries } from '../../sync/entry-info.js';
import { resolveConflict } from '../../sync/resolve-conflict.js';
import { hydrateFile } from '../../sync/hydrate.js';
import { IgnoreRules } from '../../sync/ignore.js';
import { EngineLock } from '../../sync/lock.js';
import { lastPass } from '../../sync/last-pass.js';
import { SyncSession } from '../../sync/session.js';
import { SETTING_KEYS, checkSettingKey, parseSettingValue } from '../../sync/settings.js';
import { oneOf, remotePathArg } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { printJson, type CliIo } from '../io.js';
import { formatBytes } from '../progress.js';

type Exit = (code: number) => void;

async function withJournal<T>(state: string, fn: (s: SyncSession) => Promise<T>): Promise<T> {
  const session = await SyncSession.open(state, { engine: false });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function entryLine(e: EntryInfo): string {
  const size = e.kind === 'folder' ? 'folder' : e.size === null ? '?' : formatBytes(e.size);
  return `${e.state.padEnd(11)} ${size.padStart(9)}  ${when(e.mtimeMs)}  ${e.path}${e.kind === 'folder' ? '/' : ''}`;
}

export function registerJournalCommands(program: Command, io: CliIo, exit: Exit): void {
  program
    .command('status')
    .description('account, engine, counts per state, failures and conflicts')
    .requiredOption('--state <dir>', 'state folder')
    .option('--json', 'print JSON')
    .action(async (o: { state: string; json?: boolean }) =>
      withJournal(o.state, async (s) => {
        const entries = await listEntries(s.journal, s.root, '/', { recursive: true, cached: cachedLookup(s) });
        const counts = Object.fromEntries(ENTRY_STATES.map((k) => [k, 0])) as Record<EntryState, number>;
        for (const e of entries) if (e.kind === 'file') counts[e.state]++;
        const holder = EngineLock.holder(s.state.dir);
        const info: StatusInfo = {
          account: { remote: s.state.account.remote, user: s.state.account.user, local: s.root },
          engine: holder === null ? null : { pid: holder.pid },
          counts,
          files: entries.filter((e) => e.kind === 'file').length,
          folders: entries.filter((e) => e.kind === 'folder').length,
          failures: s.journal.failures(),
          conflicts: s.journal.conflicts().length,
          pending: entries.filter((e) => e.flags.includes('pending')).length,
          lastSyncMs: (await lastPass(s.state.dir))?.finishedMs ?? null,
        };
        if (o.json === true) printJson(io, info);
        else {
          io.out(`remote   ${info.account.remote}${info.account.user === null ? '' : ` (user ${info.account.user})`}\n`);
          io.out(`local    ${info.account.local}\n`);
          io.out(`engine   ${info.engine === null ? 'not running' : `running (pid ${info.engine.pid})`}\n`);
          io.out(`last     ${info.lastSyncMs === null ? 'never synced' : when(info.lastSyncMs)}\n`);
          io.out(`files    ${info.files} in ${info.folders} folders: ${ENTRY_STATES.filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`).join(', ') || 'none'}\n`);
          if (info.conflicts > 0) io.out(`conflicts ${info.conflicts} (netfs-sync conflicts)\n`);
          for (const f of info.failures) io.out(`error    ${f.path}: ${f.code}: ${f.message} (attempt ${f.attempts}, next try ${when(f.nextRetryMs)})\n`);
        }
        exit(EXIT.OK);
      }),
    );

  program
    .command('ls [path]')
    .description('list a folder (default /) with each entry\'s state, size, modification time')
    .requiredOption('--state <dir>', 'state folder')
    .option('-R, --recursive', 'the whole subtree')
    .option('--json', 'print JSON')
    .action(async (pathArg: string | undefined, o: { state: string; recursive?: boolean; json?: boolean }) => {
      const path = remotePathArg(pathArg ?? '/');
      await withJournal(o.state, async (s) => {
        const ignore = await IgnoreRules.load(s.root);
        const entries = await listEntries(s.journal, s.root, path, { recursive: o.recursive === true, isIgnored: (p, k) => ignore.isIgnored(p, k), cached: cachedLookup(s) });
        if (o.json === true) printJson(io, entries);
        else for (const e of entries) io.out(`${entryLine(e)}\n`);
        exit(EXIT.OK);
      });
    });

  program
    .command('pin <path>')
    .description('always keep PATH on this device (synced); children inherit; a file is fetched now (from the cache when it holds it)')
    .requiredOption('--state <dir>', 'state folder')
    .action(async (pathArg: string, o: { state: string }) => {
      const path = remotePathArg(pathArg);
      const isFile = await withJournal(o.state, async (s) => {
        s.journal.setPlacement(path, 'synced');
        return s.journal.entry(path)?.kind === 'file';
      });
      if (!isFile || EngineLock.holder(o.state) !== null) {
        io.out(`${path}: synced (the ${isFile ? 'running engine' : 'next sync pass'} fetches it)\n`);
        exit(EXIT.OK);
        return;
      }
      const session = await SyncSession.open(o.state, { engine: true, lock: 'if-free' });
      try {
        if (session.cache === null) {
          io.out(`${path}: synced (the running engine fetches it)\n`);
        } else {
          const r = await hydrateFile(session, path);
          io.out(r.already ? `${path}: synced (already on this device)\n` : `${path}: synced, now at ${r.localPath} (${r.fetched === 0 ? 'from the cache' : `${formatBytes(r.fetched)} from the server`})\n`);
        }
        exit(EXIT.OK);
      } finally {
        await session.close();
      }
    });

  program
    .command('unpin <path>')
    .description('make PATH online-only (free up space): listed, read on demand, kept in the cache until culled; children inherit')
    .requiredOption('--state <dir>', 'state folder')
    .action(async (pathArg: string, o: { state: string }) => {
      const path = remotePathArg(pathArg);
      await withJournal(o.state, async (s) => {
        s.journal.setPlacement(path, 'online-only');
        io.out(`${path}: online-only (the next sync pass frees the space, once each file is checked against the server)\n`);
        exit(EXIT.OK);
      });
    });

  program
    .command('conflicts')
    .description('list the files that changed on both sides')
    .requiredOption('--state <dir>', 'state folder')
    .option('--json', 'print JSON')
    .action(async (o: { state: string; json?: boolean }) =>
      withJournal(o.state, async (s) => {
        const rows = s.journal.conflicts();
        if (o.json === true) printJson(io, rows);
        else for (const c of rows) io.out(`${c.path}\n  ours kept as ${c.copyPath} (${when(c.createdMs)})\n`);
        exit(EXIT.OK);
      }),
    );

  program
    .command('resolve <path>')
    .description('resolve a conflict: keep ours, theirs, or both (PATH is the file or its conflict copy)')
    .requiredOption('--state <dir>', 'state folder')
    .requiredOption('--keep <which>', 'ours | theirs | both')
    .action(async (pathArg: string, o: { state: string; keep: string }) => {
      const path = remotePathArg(pathArg);
      const keep = oneOf('--keep', o.keep, ['ours', 'theirs', 'both'] as const);
      await withJournal(o.state, async (s) => {
        const row = await resolveConflict(s, path, keep);
        io.out(`${row.path}: kept ${keep}${keep === 'both' ? ` (${row.copyPath} stays)` : ''}; the next sync pass carries it to the server\n`);
        exit(EXIT.OK);
      });
    });

  program
    .command('trash <action> [path]')
    .description('ls: what was removed locally because the server deleted it; restore PATH (or an id)')
    .requiredOption('--state <dir>', 'state folder')
    .option('--json', 'print JSON')
    .action(async (action: string, pathArg: string | undefined, o: { state: string; json?: boolean }) => {
      const which = oneOf('trash action', action, ['ls', 'restore'] as const);
      await withJournal(o.state, async (s) => {
        if (which === 'ls') {
          const rows = (await s.trash.list()).filter((r) => pathArg === undefined || r.originalPath === pathArg);
          if (o.json === true) printJson(io, rows.map(({ fileName: _f, ...rest }) => rest));
          else for (const r of rows) io.out(`${r.id}  ${when(r.deletedMs)}  ${r.kind === 'folder' ? 'folder' : formatBytes(r.size)}  ${r.originalPath}\n`);
          exit(EXIT.OK);
          return;
        }
        if (pathArg === undefined) throw new NetfsError('INVALID_ARGUMENT', 'trash restore needs PATH (the original path) or an id from "trash ls"');
        const result = await s.trash.restore(s.root, pathArg.startsWith('/') ? remotePathArg(pathArg) : pathArg);
        if (o.json === true) printJson(io, { restoredTo: result.restoredTo, renamed: result.renamed, message: result.message });
        else io.out(`${result.message}\n`);
        exit(EXIT.OK);
      });
    });

  program
    .command('config <action> [key] [value]')
    .description(`get or set a setting (${SETTING_KEYS.join(', ')})`)
    .requiredOption('--state <dir>', 'state folder')
    .option('--json', 'print JSON')
    .action(async (action: string, key: string | undefined, value: string | undefined, o: { state: string; json?: boolean }) => {
      const which = oneOf('config action', action, ['get', 'set'] as const);
      await withJournal(o.state, async (s) => {
        if (which === 'get') {
          const all = s.journal.settings();
          if (key !== undefined) {
            const k = checkSettingKey(key);
            io.out(o.json === true ? `${JSON.stringify(all[k])}\n` : `${all[k]}\n`);
          } else if (o.json === true) printJson(io, all);
          else for (const k of SETTING_KEYS) io.out(`${k} = ${all[k]}\n`);
          exit(EXIT.OK);
          return;
        }
        if (key === undefined || value === undefined) throw new NetfsError('INVALID_ARGUMENT', 'config set needs KEY and VALUE');
        const k = checkSettingKey(key);
        s.journal.setSetting(k, parseSettingValue(k, value));
        io.out(`${k} = ${s.journal.setting(k)}\n`);
        exit(EXIT.OK);
      });
    });
}

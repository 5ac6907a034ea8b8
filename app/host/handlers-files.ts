/**
 * files.list | files.pin | files.unpin | files.open | files.preview — every path through
 * guardPath first (S4: nothing outside the sync folder, nothing behind a symlinked folder).
 *
 *   list     listEntries (journal + sync folder + cache extents), as `netfs-sync ls`
 *   pin      placement synced; a known file is fetched now (hydrateFile: from the cache when it
 *            is whole and current, so offline too), a folder by the next pass
 *   unpin    placement online-only; the next pass frees the space (after checking the server)
 *   open     a synced file's local path; an online-only one is pinned and hydrated first
 *   preview  an on-demand range read through the engine (readFile: local copy, cache, server)
 */
import type { Handlers } from '../api/derive.js';
import { NetfsError, isNetfsError } from '../api/errors.js';
import { cachedLookup } from '../sync/entry-info.js';
import { listEntries } from '../sync/entry-info.js';
import { hydrateFile } from '../sync/hydrate.js';
import { IgnoreRules } from '../sync/ignore.js';
import { localNow } from '../sync/local-state.js';
import { readFile } from '../sync/read-file.js';
import type { EngineRun } from './engine-run.js';
import { contentTypeOf } from './mime.js';
import { guardPath } from './path-guard.js';
import { needRun, type ServiceContext } from './service-context.js';

type FilesHandlers = Pick<Handlers, 'files.list' | 'files.pin' | 'files.unpin' | 'files.open' | 'files.preview'>;

/** Pins and fetches one known file while no pass runs; returns its local path. */
async function hydrate(run: EngineRun, path: string): Promise<string> {
  const r = await run.exclusive(() => hydrateFile(run.session, path));
  void run.refreshCounts();
  return r.localPath;
}

export function filesHandlers(ctx: ServiceContext): FilesHandlers {
  return {
    'files.list': async ({ path, recursive }) => {
      const run = needRun(ctx, 'files.list');
      const s = run.session;
      await guardPath(s.root, path);
      const ignore = await IgnoreRules.load(s.root);
      return listEntries(s.journal, s.root, path, { recursive, isIgnored: (p, k) => ignore.isIgnored(p, k), cached: cachedLookup(s) });
    },

    'files.pin': async ({ path }) => {
      const run = needRun(ctx, 'files.pin');
      const s = run.session;
      await guardPath(s.root, path);
      s.journal.setPlacement(path, 'synced');
      if (s.journal.entry(path)?.kind === 'file') {
        try {
          await hydrate(run, path);
        } catch (e) {
          // Offline and not cached: the pin stands, and the next pass that reaches the server fetches it.
          if (!isNetfsError(e) || e.code !== 'UNREACHABLE') throw e;
        }
      }
      run.requestPass();
      void run.refreshCounts();
      return { path, placement: 'synced' as const };
    },

    'files.unpin': async ({ path }) => {
      const run = needRun(ctx, 'files.unpin');
      await guardPath(run.session.root, path);
      run.session.journal.setPlacement(path, 'online-only');
      run.requestPass();
      void run.refreshCounts();
      return { path, placement: 'online-only' as const };
    },

    'files.open': async ({ path }) => {
      const run = needRun(ctx, 'files.open');
      const s = run.session;
      const file = await guardPath(s.root, path);
      const row = s.journal.entry(path);
      if (row === undefined) throw new NetfsError('NOT_FOUND', `${path} is not known yet: it appears after the next sync pass`);
      if (row.kind !== 'file') throw new NetfsError('INVALID_ARGUMENT', `${path} is a folder, not a file`);
      if ((row.placement ?? 'synced') === 'synced') {
        const here = await localNow(file, path);
        if (here !== null && here !== 'other' && here.kind === 'file') return { localPath: file };
      }
      return { localPath: await hydrate(run, path) };
    },

    'files.preview': async ({ path, offset, length }) => {
      const run = needRun(ctx, 'files.preview');
      const s = run.session;
      await guardPath(s.root, path);
      const chunks: Buffer[] = [];
      const result = await readFile(s, path, {
        offset,
        length,
        consumer: {
          // Copied: the engine reuses its buffers once deliver() settles.
          deliver: async (_fpos, views) => {
            for (const v of views) chunks.push(Buffer.from(v));
          },
        },
      });
      const size = s.journal.entry(path)?.remoteSize ?? offset + result.bytes;
      const bytes = Buffer.concat(chunks);
      return { base64: bytes.toString('base64'), bytes: bytes.length, size, contentType: contentTypeOf(path) };
    },
  };
}

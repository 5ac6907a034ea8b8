/**
 * diagnostics.stats | diagnostics.trace | diagnostics.bundle
 *
 *   stats   the netfs and FS-Cache counters, as numbers and as /proc/fs/netfs/stats text
 *   trace   the engine's bounded trace since a sequence number
 *   bundle  bundle.ts: config without secrets, counters, requests, recent trace and log lines,
 *           failures and conflicts; paths pseudonymised unless includePaths
 */
import { homedir } from 'node:os';
import type { Handlers } from '../api/derive.js';
import { lastPass } from '../sync/last-pass.js';
import { DEFAULT_SETTINGS } from '../sync/settings.js';
import { buildBundle } from './bundle.js';
import { cacheSummary } from './cache-view.js';
import type { EngineRun } from './engine-run.js';
import type { ServiceContext } from './service-context.js';
import { UNCONFIGURED } from './status.js';

type DiagnosticsHandlers = Pick<Handlers, 'diagnostics.stats' | 'diagnostics.trace' | 'diagnostics.bundle'>;

const TRACE_IN_BUNDLE = 2000;

async function sectionsOf(run: EngineRun): Promise<Record<string, unknown>> {
  const s = run.session;
  const store = s.cache;
  return {
    status: run.status(),
    settings: s.journal.settings(),
    capabilities: s.capabilities,
    lastPass: await lastPass(s.state.dir),
    journal: { entries: s.journal.entryCount() },
    counters: { netfs: s.engine.stats(), netfsText: s.engine.formatStats(), cache: store === null ? null : cacheSummary(await store.inspect()) },
    requests: s.engine.requests(),
    trace: s.engine.trace().slice(-TRACE_IN_BUNDLE),
    logs: run.logLines,
    failures: s.journal.failures(),
    conflicts: s.journal.conflicts(),
    trash: (await s.trash.list()).map(({ fileName: _f, ...rest }) => rest),
  };
}

export function diagnosticsHandlers(ctx: ServiceContext): DiagnosticsHandlers {
  return {
    'diagnostics.stats': async () => {
      const engine = ctx.current()?.session.engine;
      return engine === undefined ? { netfs: {}, text: '' } : { netfs: structuredClone(engine.stats()), text: engine.formatStats() };
    },
    'diagnostics.trace': async ({ sinceSeq }) => (ctx.current()?.session.engine.trace(sinceSeq) ?? []).map((e) => ({ ...e })),
    'diagnostics.bundle': async ({ includePaths }) => {
      const run = ctx.current();
      const nowMs = ctx.now().getTime();
      if (run === null) {
        return buildBundle({
          nowMs,
          includePaths,
          secrets: [],
          diskPaths: [ctx.stateDir, homedir()],
          remotePaths: [],
          account: null,
          sections: { status: UNCONFIGURED, settings: DEFAULT_SETTINGS },
        });
      }
      const s = run.session;
      const j = s.journal;
      const remotePaths = [...j.base().keys(), ...j.failures().map((f) => f.path), ...j.conflicts().flatMap((c) => [c.path, c.copyPath]), ...j.trashEntries().map((t) => t.originalPath)];
      return buildBundle({
        nowMs,
        includePaths,
        secrets: s.state.password === null ? [] : [s.state.password],
        diskPaths: [s.root, s.state.dir, s.state.cacheDir, homedir()],
        remotePaths,
        account: run.account,
        sections: await sectionsOf(run),
      });
    },
  };
}

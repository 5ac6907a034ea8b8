/**
 * Runs "ours" (a compiled child script such as ours-download.js) in its own Node process and
 * reads its one-line JSON report. The child times itself (from just before the engine call to
 * just after it resolves); the orchestrator also notes the whole process's wall time.
 */
import { join } from 'node:path';
import { type ChildResult, describeFailure, lastJsonLine, runChild } from './child.js';
import type { BenchContext } from './types.js';

export interface OursReport {
  ok: boolean;
  error?: string;
  variant?: string;
  seconds: number;
  bytes: number;
  peak_rss_mb: number;
  [key: string]: unknown;
}

export interface OursRun {
  report: OursReport | null;
  child: ChildResult;
  /** null when the run worked, else why not. */
  failure: string | null;
}

export interface OursOptions {
  /** The child script, relative to dist/app/bench (e.g. 'ours-download.js'). */
  script: string;
  /** Its arguments besides --url and --user (the password goes in the environment). */
  args: string[];
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export async function runOurs(ctx: BenchContext, options: OursOptions): Promise<OursRun> {
  const { server } = ctx;
  const child = await runChild({
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), join(ctx.benchDir, options.script), '--url', server.url, '--user', server.user, ...options.args],
    env: { NETFS_BENCH_PASSWORD: server.password },
  });
  const report = lastJsonLine<OursReport>(child.stdout);
  let failure: string | null = null;
  if (report === null) failure = `no report (${describeFailure(child)})`;
  else if (!report.ok) failure = report.error ?? 'failed without a reason';
  else if (child.code !== 0) failure = describeFailure(child);
  return { report, child, failure };
}

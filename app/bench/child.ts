/**
 * Runs one side of a benchmark in its own child process and times it from just before the
 * spawn to the exit (what a user waiting on `curl` or `rclone copy` would see). Output is kept
 * (the tail only), and the last line of stdout can be read as the child's JSON report.
 *
 *   orchestrator ── spawn ──> child (curl | rclone | node ours-download.js)
 *        t0 ─────────────────────────────────────────────────── exit ── t1   wallS = t1 - t0
 */
import { spawn } from 'node:child_process';

export interface ChildSpec {
  command: string;
  args: readonly string[];
  /** Added to a minimal environment (PATH, HOME, LANG); secrets go here, never in args. */
  env?: Record<string, string>;
  cwd?: string;
  /** Kill it (SIGKILL) after this long; default 10 minutes. */
  timeoutMs?: number;
}

export interface ChildResult {
  /** Wall time from spawn to exit, in seconds. */
  wallS: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const TAIL_CHARS = 64 * 1024;
const running = new Set<number>();

/** Kills every child still running (SIGKILL); for a bench that is being interrupted. */
export function killRunningChildren(): void {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function tail(s: string): string {
  return s.length > TAIL_CHARS ? s.slice(-TAIL_CHARS) : s;
}

export function runChild(spec: ChildSpec): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      LANG: 'C',
      ...spec.env,
    };
    let stdout = '';
    let stderr = '';
    const t0 = process.hrtime.bigint();
    const child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.timeoutMs ?? 600_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout = tail(stdout + s)));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = tail(stderr + s)));
    child.on('error', (e) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      reject(new Error(`cannot run ${spec.command}: ${e.message}`));
    });
    // 'exit' is the moment the process is gone (what we time); 'close' also waits for its pipes.
    let wallS = 0;
    child.on('exit', () => {
      wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      resolve({ wallS, code, signal, stdout, stderr });
    });
  });
}

/** The child's report: the last non-empty line of its stdout, as JSON. */
export function lastJsonLine<T>(stdout: string): T | null {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) return null;
  try {
    return JSON.parse(last) as T;
  } catch {
    return null;
  }
}

/** A short account of a failed child, for the failure list. */
export function describeFailure(r: ChildResult): string {
  const how = r.signal !== null ? `killed by ${r.signal}` : `exit code ${r.code}`;
  const err = r.stderr.trim().split('\n').slice(-3).join(' | ');
  return err === '' ? how : `${how}: ${err}`;
}

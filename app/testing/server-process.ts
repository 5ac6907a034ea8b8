// Runs a server (apache2, rclone) as a child process that cannot outlive the test process:
//
//   - it gets its own process group, so stopping it also stops the workers it forked
//     (Apache's workers keep serving when only their parent dies);
//   - `setpriv --pdeathsig TERM` (util-linux) sends it SIGTERM if the test process dies, even
//     by SIGKILL; Apache then stops its workers itself;
//   - a process 'exit' hook SIGKILLs every group still running, synchronously.
import { spawn } from 'node:child_process';
import { findBinary } from './binaries.js';
import { onProcessExit } from './exit-cleanup.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcessOptions {
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ServerProcess {
  readonly pid: number;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** How it exited, or null while it runs. */
  exitInfo(): ExitInfo | null;
  /** The last 64 KiB of its stdout and stderr, interleaved. */
  output(): string;
  /** SIGTERM, then SIGKILL to the whole group after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_TAIL_BYTES = 64 * 1024;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function spawnServerProcess(options: ServerProcessOptions): ServerProcess {
  const setpriv = findBinary('setpriv');
  const [command, args] =
    setpriv === null
      ? [options.command, [...options.args]]
      : [setpriv, ['--pdeathsig', 'TERM', '--', options.command, ...options.args]];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid ?? -1;
  const forgetAtExit = pid > 0 ? onProcessExit(() => killGroup(pid, 'SIGKILL')) : () => undefined;
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail += chunk.toString('utf8');
    if (tail.length > OUTPUT_TAIL_BYTES) tail = tail.slice(tail.length - OUTPUT_TAIL_BYTES);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  let info: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (err) => {
      collect(Buffer.from(`spawn ${options.command} failed: ${err.message}\n`));
      info ??= { code: null, signal: null };
      resolve(info);
    });
    child.once('exit', (code, signal) => {
      info = { code, signal };
      // Workers left behind by a parent that died get the same end.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      forgetAtExit();
      resolve(info);
    });
  });

  return {
    pid,
    exited,
    exitInfo: () => info,
    output: () => tail,
    async stop(graceMs = 5_000) {
      if (info !== null || pid < 0) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone; 'exit' is on its way.
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') {
        killGroup(pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

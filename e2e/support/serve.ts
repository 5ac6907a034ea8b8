/**
 * A real `netfs-sync serve --state DIR` child process, as a user starts it:
 *
 *   node dist/app/cli/netfs-sync.js serve --state DIR  ──stdout──>  "UI: http://127.0.0.1:PORT/#token=T"
 *   stop(): SIGTERM, then SIGKILL after 10 s; SIGKILL too if the test process exits first
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './paths.js';

export interface Served {
  url: string;
  origin: string;
  token: string;
  child: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

const UI_LINE = /^UI: (http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]{43}))$/m;

export function startServe(stateDir: string, env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--state', stateDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // A worker that dies (timeout, crash) must not leave the host running.
  const onExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`no UI line within 30 s; stderr: ${err}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = UI_LINE.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve({ url: m[1] ?? '', origin: `http://127.0.0.1:${m[2] ?? ''}`, token: m[3] ?? '', child, stderr: () => err, stop });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`netfs-sync serve exited (${code ?? signal}) before its UI line; stderr: ${err}`));
    });
  });
}

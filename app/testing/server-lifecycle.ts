// Start/stop/restart of one real server process on one port, shared by the Apache and rclone
// harnesses: the first start picks a free port (and another one if binding fails), later
// starts reuse that port so a client sees the same server come back.
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { waitForDav } from './readiness.js';
import type { ServerProcess } from './server-process.js';

export interface LifecycleSpec {
  /** For messages: "apache2", "rclone serve webdav". */
  name: string;
  /** Writes whatever config the port needs and spawns the server. */
  launch(port: number): ServerProcess;
  /** The DAV root URL for that port (polled with OPTIONS). */
  davUrl(port: number): string;
  user: string;
  password: string;
  /** The server's own log file(s), whole. */
  logText(): string;
  readyTimeoutMs: number;
  /** Stop grace before SIGKILL. */
  stopGraceMs: number;
}

export interface ServerLifecycle {
  readonly port: number;
  readonly process: ServerProcess | null;
  /** First start: a free port, up to 5 ports tried when binding fails. */
  startOnFreePort(): Promise<void>;
  /** Start again on the same port (retried for a few seconds while the port is taken). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The last lines of the log and of the process output. */
  diagnostics(lines?: number): string;
  /** stdout/stderr of the last few processes (failed attempts included), oldest first. */
  output(): string;
}

const BIND_FAILURE = /address already in use|could not bind/i;
const PORT_ATTEMPTS = 5;
const SAME_PORT_ATTEMPTS = 10;
const SAME_PORT_WAIT_MS = 300;
const KEPT_OUTPUTS = 5;

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

export function createServerLifecycle(spec: LifecycleSpec): ServerLifecycle {
  let port = 0;
  let current: ServerProcess | null = null;
  const recent: ServerProcess[] = [];
  const output = (): string => recent.map((p) => p.output()).join('');

  const diagnostics = (lines = 30): string =>
    `--- last lines of the ${spec.name} log ---\n${lastLines(spec.logText(), lines)}\n` +
    `--- last lines of its stdout/stderr ---\n${lastLines(output(), lines)}`;

  /** One attempt on `port`: 'ready', 'port-taken', or throws for any other failure. */
  async function attempt(onPort: number): Promise<'ready' | 'port-taken'> {
    const logStart = spec.logText().length;
    const proc = spec.launch(onPort);
    current = proc;
    recent.push(proc);
    if (recent.length > KEPT_OUTPUTS) recent.shift();
    const result = await waitForDav({
      url: spec.davUrl(onPort),
      user: spec.user,
      password: spec.password,
      timeoutMs: spec.readyTimeoutMs,
      exitInfo: () => proc.exitInfo(),
    });
    if (result.ready) return 'ready';
    await proc.stop(spec.stopGraceMs);
    const fresh = spec.logText().slice(logStart) + proc.output();
    if (result.exited && BIND_FAILURE.test(fresh)) return 'port-taken';
    throw new Error(`${spec.name} did not start on 127.0.0.1:${onPort}: ${result.reason}\n${diagnostics()}`);
  }

  return {
    get port() {
      return port;
    },
    get process() {
      return current;
    },
    async startOnFreePort() {
      for (let i = 0; i < PORT_ATTEMPTS; i++) {
        const candidate = await freePort();
        if ((await attempt(candidate)) === 'ready') {
          port = candidate;
          return;
        }
      }
      throw new Error(`${spec.name}: ${PORT_ATTEMPTS} free ports were all taken before it could bind\n${diagnostics()}`);
    },
    async start() {
      if (port === 0) throw new Error(`${spec.name}: start() before the first start`);
      if (current !== null && current.exitInfo() === null) return;
      for (let i = 0; i < SAME_PORT_ATTEMPTS; i++) {
        if ((await attempt(port)) === 'ready') return;
        await sleep(SAME_PORT_WAIT_MS);
      }
      throw new Error(`${spec.name}: port ${port} stayed taken, cannot start there again\n${diagnostics()}`);
    },
    async stop() {
      if (current !== null) await current.stop(spec.stopGraceMs);
    },
    diagnostics,
    output,
  };
}

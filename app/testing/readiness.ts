// Waits until a freshly started WebDAV server really serves: its port accepts connections
// and an authenticated OPTIONS on the DAV root answers 200. Bounded by a deadline.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest } from './http-client.js';
import type { ExitInfo } from './server-process.js';

export interface ReadinessOptions {
  url: string;
  user: string;
  password: string;
  timeoutMs: number;
  /** Stops the wait early when the server process is gone. */
  exitInfo: () => ExitInfo | null;
}

export type Readiness = { ready: true } | { ready: false; exited: boolean; reason: string };

const POLL_MS = 50;

function portAccepts(port: number, host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitForDav(options: ReadinessOptions): Promise<Readiness> {
  const url = new URL(options.url);
  const port = Number(url.port);
  const deadline = Date.now() + options.timeoutMs;
  let reason = 'the port never accepted a connection';
  while (Date.now() < deadline) {
    const exit = options.exitInfo();
    if (exit !== null) {
      return { ready: false, exited: true, reason: `the server exited (code ${exit.code}, signal ${exit.signal})` };
    }
    if (await portAccepts(port, url.hostname, 1_000)) {
      try {
        const res = await httpRequest({
          url,
          method: 'OPTIONS',
          auth: { user: options.user, password: options.password },
          timeoutMs: 2_000,
        });
        if (res.status === 200) return { ready: true };
        reason = `OPTIONS ${url.href} answered ${res.status}`;
      } catch (err) {
        reason = `OPTIONS ${url.href} failed: ${(err as Error).message}`;
      }
    }
    await sleep(POLL_MS);
  }
  return { ready: false, exited: options.exitInfo() !== null, reason: `not ready after ${options.timeoutMs} ms: ${reason}` };
}

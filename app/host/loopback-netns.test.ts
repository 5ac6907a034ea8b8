/**
 * S7: the headless host answers on loopback only. `netfs-sync serve` runs in its own network
 * namespace with an extra interface (one end of a veth pair, 10.231.N.1; the other end,
 * 10.231.N.2, stays in the test's namespace). A control server in the same namespace, bound to
 * every address, shows the route works; the host's port on 10.231.N.1 refuses, from outside
 * and from inside; 127.0.0.1 and ::1 answer inside.
 *
 * Needs root and iproute2 (CI runs as root): if the namespace cannot be made, the test fails
 * with the reason; it is never skipped.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';

const run = promisify(execFile);
const N = (process.pid % 200) + 20;
const NS = `netfs-s7-${process.pid}`;
const OUTER = `s7o${process.pid % 100000}`;
const INNER = `s7i${process.pid % 100000}`;
const INNER_IP = `10.231.${N}.1`;
const OUTER_IP = `10.231.${N}.2`;
const CONTROL_PORT = 18_000 + N;

const LOADER = fileURLToPath(new URL('../testing/ts-loader.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('../cli/netfs-sync.ts', import.meta.url));

let tmp: TempDir;
let serve: ChildProcess | null = null;
let control: ChildProcess | null = null;
let port = 0;
let token = '';

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { timeout: 20_000 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`S7 needs a network namespace with a veth pair, and "${cmd} ${args.join(' ')}" failed: ${err.stderr?.trim() || err.message}`);
  }
}

const inNs = (args: string[]): Promise<string> => sh('ip', ['netns', 'exec', NS, ...args]);

/** Connects with TCP; resolves 'connected' or the error code. */
function tcp(host: string, p: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port: p });
    s.setTimeout(3000, () => {
      s.destroy();
      resolve('TIMEOUT');
    });
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'ERROR'));
  });
}

/** curl inside the namespace: the HTTP status, or the curl failure. */
async function curlInNs(url: string, host: string): Promise<string> {
  try {
    return (await run('ip', ['netns', 'exec', NS, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-H', `Host: ${host}`, url], { timeout: 20_000 })).stdout;
  } catch (e) {
    return `curl failed (${(e as { code?: number }).code ?? '?'})`;
  }
}

beforeAll(async () => {
  tmp = await makeTempDir('netfs-host-s7-');
  await sh('ip', ['netns', 'add', NS]);
  await sh('ip', ['link', 'add', OUTER, 'type', 'veth', 'peer', 'name', INNER]);
  await sh('ip', ['link', 'set', INNER, 'netns', NS]);
  await sh('ip', ['addr', 'add', `${OUTER_IP}/24`, 'dev', OUTER]);
  await sh('ip', ['link', 'set', OUTER, 'up']);
  await inNs(['ip', 'addr', 'add', `${INNER_IP}/24`, 'dev', INNER]);
  await inNs(['ip', 'link', 'set', INNER, 'up']);
  await inNs(['ip', 'link', 'set', 'lo', 'up']);
  control = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', `require('http').createServer((q, s) => s.end('control')).listen(${CONTROL_PORT}, '0.0.0.0', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  serve = spawn('ip', ['netns', 'exec', NS, process.execPath, '--import', LOADER, ENTRY, 'serve', '--state', join(tmp.path, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  serve.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve?.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out);
    });
    serve?.on('close', (code) => reject(new Error(`serve exited ${code} in the namespace: ${err}`)));
  });
  const m = /^UI: http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]{43})\n$/.exec(line);
  if (m === null) throw new Error(`not the UI line: ${line}`);
  port = Number(m[1]);
  token = m[2] ?? '';
  await new Promise<void>((resolve) => control?.stdout?.once('data', () => resolve()));
});

afterAll(async () => {
  serve?.kill('SIGTERM');
  control?.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  serve?.kill('SIGKILL');
  await run('ip', ['netns', 'del', NS]).catch(() => undefined);
  await run('ip', ['link', 'del', OUTER]).catch(() => undefined);
  await tmp?.remove();
});

describe('S7: loopback only, in a network namespace with a veth pair', () => {
  it('the namespace\'s other address is reachable (a control server answers there), but the host refuses on it', async () => {
    expect(await tcp(INNER_IP, CONTROL_PORT)).toBe('connected');
    expect(await tcp(INNER_IP, port)).toBe('ECONNREFUSED');
    expect(await curlInNs(`http://${INNER_IP}:${port}/`, `127.0.0.1:${port}`)).toMatch(/^curl failed/);
  });

  it('inside the namespace the host answers on 127.0.0.1 and ::1, and listens nowhere else', async () => {
    expect(token).toHaveLength(43);
    expect(['200', '503']).toContain(await curlInNs(`http://127.0.0.1:${port}/`, `127.0.0.1:${port}`));
    expect(['200', '503']).toContain(await curlInNs(`http://[::1]:${port}/`, `[::1]:${port}`));
    const listening = (await inNs(['ss', '-Hltn', `sport = :${port}`]))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.trim().split(/\s+/)[3])
      .sort();
    expect(listening).toEqual([`127.0.0.1:${port}`, `[::1]:${port}`]);
  });
});

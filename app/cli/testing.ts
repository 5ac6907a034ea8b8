/**
 * Test kit for the CLI: run `netfs-sync` in this process with captured output, or as a real
 * child process (for locks, signals and exit codes seen by the OS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo } from './io.js';
import { runCli } from './program.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Buffer;
}

/** Runs one invocation in this process. */
export async function cli(argv: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const chunks: Buffer[] = [];
  const io: CliIo = {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
    outBytes: (b) => {
      chunks.push(Buffer.from(b));
      return Promise.resolve();
    },
    env,
    errIsTty: false,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr, bytes: Buffer.concat(chunks) };
}

const LOADER = fileURLToPath(new URL('../testing/ts-loader.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('./netfs-sync.ts', import.meta.url));
const APP = fileURLToPath(new URL('..', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/app/cli/netfs-sync.js', import.meta.url));

/** The built CLI when `tsc -b` output is newer than every source file (npm test builds first), else null. */
function freshBuild(): string | null {
  let built: number;
  try {
    built = statSync(BUILT).mtimeMs;
  } catch {
    return null;
  }
  const stack = [APP];
  while (stack.length > 0) {
    const dir = stack.pop() ?? APP;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name.endsWith('.ts') && statSync(p).mtimeMs > built) return null;
    }
  }
  return BUILT;
}

let entry: string[] | null = null;

/** Starts `netfs-sync` as a child process (the build when fresh, else TypeScript through the test loader). */
export function spawnCli(argv: readonly string[], env: Record<string, string> = {}): ChildProcess {
  if (entry === null) {
    const built = freshBuild();
    entry = built === null ? ['--import', LOADER, ENTRY] : [built];
  }
  return spawn(process.execPath, [...entry, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `netfs-sync` as a child process to the end. */
export function cliProcess(argv: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(argv, env);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const bytes = Buffer.concat(out);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout: bytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), bytes });
    });
  });
}

/**
 * The "ours" side of the sync bench rows (small_down, small_up, mib_down, upload_1g,
 * noop_resync): the real `netfs-sync` command, run in-process in its own Node process.
 *
 *   node ours-cli.js --url URL --user U --state DIR [--init --local DIR --remote-path sub/]
 *        (the password comes in NETFS_BENCH_PASSWORD, never on the command line)
 *
 *   --init (untimed)   netfs-sync init --state DIR --remote URL/sub/ --local DIR --user U --password-env …
 *   timed              netfs-sync sync --once --state DIR       (runCli: the whole command, session
 *                      open, discovery, plan, transfers, journal, close; Node's start-up outside)
 *
 * It prints one JSON line:
 *
 *   {"ok":true,"seconds":…,"exit":0,"bytes":0,"peak_rss_mb":…,"cpu_s":{…},"process_s":…}
 *
 * peak_rss_mb is the process's maxRSS (init included, which is small), in MB of 10^6 bytes.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../cli/io.js';
import { runCli } from '../cli/program.js';

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));
const TAIL = 4000;

/** A CliIo that keeps what the command says (stdout stays free for the report line). */
function capturingIo(): CliIo & { text(): string } {
  let said = '';
  const keep = (s: string): void => {
    said = (said + s).slice(-TAIL);
  };
  return {
    out: keep,
    err: keep,
    outBytes: async () => undefined,
    env: process.env,
    errIsTty: false,
    text: () => said,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      user: { type: 'string' },
      state: { type: 'string' },
      local: { type: 'string' },
      'remote-path': { type: 'string', default: '' },
      init: { type: 'boolean', default: false },
    },
  });
  const { url, user, state } = values;
  if (url === undefined || user === undefined || state === undefined) throw new Error('--url, --user and --state are required');
  if (values.init) {
    if (values.local === undefined) throw new Error('--init needs --local');
    const io = capturingIo();
    const remote = new URL(values['remote-path'], url).href;
    const code = await runCli(['init', '--state', state, '--remote', remote, '--local', values.local, '--user', user, '--password-env', 'NETFS_BENCH_PASSWORD'], io);
    if (code !== 0) throw new Error(`init exited ${code}: ${io.text().trim()}`);
  }
  const io = capturingIo();
  const t0 = performance.now();
  const code = await runCli(['sync', '--once', '--state', state], io);
  const seconds = (performance.now() - t0) / 1000;
  const usage = process.resourceUsage();
  process.stdout.write(
    `${JSON.stringify({
      ok: code === 0,
      ...(code === 0 ? {} : { error: `sync --once exited ${code}: ${io.text().trim().split('\n').slice(-5).join(' | ')}` }),
      seconds: round(seconds),
      exit: code,
      bytes: 0,
      peak_rss_mb: round((usage.maxRSS * 1024) / 1e6, 1),
      cpu_s: { user: round(usage.userCPUTime / 1e6), system: round(usage.systemCPUTime / 1e6) },
      process_s: round(performance.now() / 1000),
    })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: (e as Error).message, seconds: 0, bytes: 0, peak_rss_mb: 0 })}\n`);
  process.exitCode = 1;
});

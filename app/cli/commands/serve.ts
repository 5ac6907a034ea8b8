/**
 * netfs-sync serve --state DIR [--port N]     the headless host (app/host) on one state folder
 * netfs-sync demo [--port N]                  the same on the demo profile (app/host/demo-profile.ts)
 *
 *   AppService.open(state)  takes the engine lock ("already running (pid N)" -> exit 1); works
 *                           on an uninitialised state folder (the UI offers "add account")
 *   startHost(port)         127.0.0.1 (+ ::1); a busy --port -> exit 1 naming it
 *   stdout: exactly one line, "UI: http://127.0.0.1:PORT/#token=TOKEN"; everything else on stderr
 *   SIGINT / SIGTERM        the host closes, the running pass is cancelled; done within 30 s
 */
import type { Command } from 'commander';
import { NetfsError } from '../../api/errors.js';
import { ensureDemoProfile } from '../../host/demo-profile.js';
import { startHost } from '../../host/server.js';
import { AppService } from '../../host/service.js';
import { nonNegativeInt } from '../args.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/** The whole shutdown (host, sync loop, session) fits in this. */
const STOP_WITHIN_MS = 30_000;

function portOption(raw: string): number {
  const port = nonNegativeInt('--port', raw);
  if (port > 65535) throw new NetfsError('INVALID_ARGUMENT', `--port ${port} is not a port (0-65535)`);
  return port;
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.removeListener('SIGINT', on);
      process.removeListener('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Runs the host on `stateDir` until SIGINT/SIGTERM. */
export async function serve(stateDir: string, port: number, io: CliIo): Promise<number> {
  const service = await AppService.open(stateDir);
  let host;
  try {
    host = await startHost({ service, port, log: (m) => io.err(`netfs-sync: ${m}\n`) });
  } catch (e) {
    await service.close();
    throw e;
  }
  const signal = untilSignal();
  io.out(`UI: ${host.url}\n`);
  const got = await signal;
  io.err(`netfs-sync: ${got}: stopping\n`);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_WITHIN_MS)));
  const outcome = await Promise.race([
    (async () => {
      await host.close();
      await service.close(STOP_WITHIN_MS - 2_000);
      return 'stopped' as const;
    })(),
    late,
  ]);
  clearTimeout(timer);
  if (outcome === 'late') {
    io.err(`netfs-sync: not stopped within ${STOP_WITHIN_MS / 1000} s\n`);
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}

export function registerServe(program: Command, io: CliIo, exit: (code: number) => void): void {
  program
    .command('serve')
    .description('run the sync engine with the app UI in a browser: prints "UI: http://127.0.0.1:PORT/#token=…"')
    .requiredOption('--state <dir>', 'state folder (may be uninitialised: the UI then offers "add account")')
    .option('--port <n>', 'port on 127.0.0.1 and ::1 (default 0: the system picks)', '0')
    .action(async (o: { state: string; port: string }) => {
      exit(await serve(o.state, portOption(o.port), io));
    });

  program
    .command('demo')
    .description('the app on a demo profile: a local-folder "remote" filled from resources/demo (no server needed)')
    .option('--port <n>', 'port on 127.0.0.1 and ::1 (default 0: the system picks)', '0')
    .action(async (o: { port: string }) => {
      const port = portOption(o.port);
      const profile = await ensureDemoProfile(io.env);
      io.err(`netfs-sync: demo profile ${profile.dir}${profile.created ? ' (new)' : ''}; sync folder ${profile.local}\n`);
      exit(await serve(profile.state, port, io));
    });
}

/**
 * npm run bench [-- --quick] [-- --diagnose] [-- --repeats N] [-- --only NAME,…]
 *
 * Starts one Apache (the test harness's, on loopback), runs every case of cases/index.ts one
 * after the other (each side of a case in its own child process, never two at once), prints
 * a table and, as the last line of stdout, one JSON object (report.ts). Progress goes to
 * stderr. Apache and every scratch file are removed at the end, also on failure or Ctrl-C;
 * the exit code is 1 if any run failed (what did work is still printed).
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { CASES } from './cases/index.js';
import { killRunningChildren } from './child.js';
import { sameDevice } from './files.js';
import { QuietWatch } from './machine.js';
import { jsonLine, table } from './report.js';
import type { BenchContext, BenchRow } from './types.js';

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

let server: ApacheServer | null = null;
let scratch: TempDir | null = null;

async function cleanUp(): Promise<void> {
  killRunningChildren();
  const s = server;
  server = null;
  await s?.stop().catch((e: unknown) => log(`stopping Apache: ${(e as Error).message}`));
  const t = scratch;
  scratch = null;
  await t?.remove().catch((e: unknown) => log(`removing ${t.path}: ${(e as Error).message}`));
}

function onSignal(signal: NodeJS.Signals): void {
  log(`${signal}: stopping`);
  void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      diagnose: { type: 'boolean', default: false },
      repeats: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const quick = values.quick;
  const repeats = values.repeats === undefined ? (quick ? 1 : 2) : Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a positive integer, not ${values.repeats}`);
  const only = values.only?.split(',').map((s) => s.trim());
  const cases = only === undefined ? CASES : CASES.filter((c) => only.includes(c.name) || (c.aliases ?? []).some((a) => only.includes(a)));
  if (cases.length === 0) throw new Error(`no case matches --only ${values.only}; cases: ${CASES.flatMap((c) => [c.name, ...(c.aliases ?? [])]).join(', ')}`);

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const quiet = new QuietWatch(log);
  try {
    log(`starting Apache${quick ? ' (--quick)' : ''}, ${repeats} run(s) per side`);
    server = await startApache({ extraConfig: 'LimitRequestBody 0' });
    scratch = await makeTempDir('netfs-bench-');
    if (!(await sameDevice(server.dataDir, scratch.path))) {
      log(`warning: Apache's data folder (${server.dataDir}) and the scratch folder (${scratch.path}) are on different filesystems`);
    }
    log(`Apache ${server.url} (data ${server.dataDir}), scratch ${scratch.path}`);
    await quiet.sample('at start');
    const ctx: BenchContext = {
      quick,
      repeats,
      server,
      scratch: scratch.path,
      benchDir: dirname(fileURLToPath(import.meta.url)),
      diagnose: values.diagnose,
      log,
      checkQuiet: (label) => quiet.sample(label),
    };
    for (const c of cases) {
      log(`case ${c.name}`);
      try {
        const result = await c.run(ctx);
        rows.push(...result.rows);
        failures.push(...result.failures);
      } catch (e) {
        failures.push(`${c.name}: ${(e as Error).message}`);
        log(`case ${c.name} FAILED: ${(e as Error).stack ?? String(e)}`);
      }
    }
  } catch (e) {
    failures.push(`setup: ${(e as Error).message}`);
    log(`FAILED: ${(e as Error).stack ?? String(e)}`);
  } finally {
    await cleanUp();
  }

  for (const f of failures) log(`failure: ${f}`);
  const note = quiet.note();
  process.stdout.write(`${table(rows, repeats, quick)}\n${note === null ? '' : `${note}\n`}\n`);
  process.stdout.write(`${jsonLine(quick, rows, failures)}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    log(`FAILED: ${(e as Error).stack ?? String(e)}`);
    void cleanUp().finally(() => {
      process.stdout.write(`${jsonLine(false, [], [(e as Error).message])}\n`);
      process.exit(2);
    });
  },
);

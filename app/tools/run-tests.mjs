#!/usr/bin/env node
// `npm test`: every check and every suite, then one line `N passed, N failed` summed over all.
//
//   typecheck (tsc -b) ─┐
//   lint (eslint)      ─┼─> counted as one test each
//   unit+integration   ─┘   (vitest, JSON report → counts per test)
//   e2e (Playwright)        (Debian Chromium against `netfs-sync serve`; JSON report → counts per test)
//
// The last line of stdout is the total; it is also written to .test-results/summary.txt so
// that .ci/run can print it again after npm's own output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const results = join(root, '.test-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const suites = [];

function run(name, command, args, env = {}) {
  const started = Date.now();
  process.stdout.write(`\n=== ${name}: ${command} ${args.join(' ')}\n`);
  const child = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  return { status: child.status ?? 1, signal: child.signal, seconds };
}

function check(name, command, args) {
  const r = run(name, command, args);
  const ok = r.status === 0;
  suites.push({ name, passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0, seconds: r.seconds });
}

function vitestSuite(name, args) {
  const report = join(results, `${name}.json`);
  const r = run(name, 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args]);
  if (!existsSync(report)) {
    // The runner died before writing its report: count the whole suite as one failure.
    suites.push({ name, passed: 0, failed: 1, skipped: 0, seconds: r.seconds, note: `no report (exit ${r.status}, ${r.signal ?? 'no signal'})` });
    return;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  let failed = json.numFailedTests;
  // A test file that failed to load (syntax error, failing beforeAll) has no failed *tests*, yet it failed.
  const brokenFiles = (json.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).every((a) => a.status !== 'failed'));
  failed += brokenFiles.length;
  if (r.status !== 0 && failed === 0) failed = 1;
  suites.push({
    name,
    passed: json.numPassedTests,
    failed,
    skipped: json.numPendingTests + json.numTodoTests,
    seconds: r.seconds,
  });
}

// Playwright (e2e/playwright.config.ts); its global setup builds the app (npm run build).
function playwrightSuite(name) {
  const report = join(results, `${name}.json`);
  const r = run(name, 'npx', ['playwright', 'test', '-c', 'e2e', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_FILE: report });
  if (!existsSync(report)) {
    suites.push({ name, passed: 0, failed: 1, skipped: 0, seconds: r.seconds, note: `no report (exit ${r.status}, ${r.signal ?? 'no signal'})` });
    return;
  }
  const { stats = {}, errors = [] } = JSON.parse(readFileSync(report, 'utf8'));
  // `errors`: failures outside any test (global setup, a spec that does not load).
  let failed = (stats.unexpected ?? 0) + errors.length;
  if (r.status !== 0 && failed === 0) failed = 1;
  suites.push({ name, passed: (stats.expected ?? 0) + (stats.flaky ?? 0), failed, skipped: stats.skipped ?? 0, seconds: r.seconds });
}

check('typecheck', 'npx', ['tsc', '-b']);
check('lint', 'npx', ['eslint', '--max-warnings', '0', '.']);
vitestSuite('vitest', []);
playwrightSuite('e2e');

const total = suites.reduce(
  (t, s) => ({ passed: t.passed + s.passed, failed: t.failed + s.failed, skipped: t.skipped + s.skipped }),
  { passed: 0, failed: 0, skipped: 0 },
);

process.stdout.write('\nSuites:\n');
for (const s of suites) {
  process.stdout.write(
    `  ${s.name.padEnd(12)} ${String(s.passed).padStart(5)} passed ${String(s.failed).padStart(4)} failed ${String(s.skipped).padStart(4)} skipped  ${s.seconds}s${s.note ? `  (${s.note})` : ''}\n`,
  );
}
const line = `${total.passed} passed, ${total.failed} failed` + (total.skipped > 0 ? `, ${total.skipped} skipped` : '');
writeFileSync(join(results, 'summary.txt'), line + '\n');
process.stdout.write(line + '\n');
process.exit(total.failed === 0 ? 0 : 1);

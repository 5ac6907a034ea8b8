/**
 * A plain-JavaScript copy of app/ for tests that start many short-lived `netfs-sync` child
 * processes (P1's crash-and-restart command): through ts-loader.mjs every child spends about
 * 3.5 s transpiling on 2 cores, through this copy about 0.5 s.
 *
 *   app/**\/*.ts (tests left out) ──typescript transpileModule (types erased, isolatedModules)──>
 *   <temp>/app/**\/*.js    + <temp>/package.json {"type":"module"}
 *                          + <temp>/node_modules -> the repository's node_modules (symlink)
 *
 * Like ts-loader.mjs this only erases types (no type check: that is `tsc -b`'s job), and it is
 * made once per test file from the sources as they are then, so it never runs a stale build.
 */
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { makeTempDir } from './temp-dir.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface TranspiledApp {
  /** The CLI's entry, to run as `node <cliEntry> …`. */
  readonly cliEntry: string;
  /** Deletes the copy. Idempotent. */
  remove(): Promise<void>;
}

export async function transpileApp(): Promise<TranspiledApp> {
  const temp = await makeTempDir('netfs-app-js-');
  const files = (await readdir(APP, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
  for (const file of files) {
    const out = ts.transpileModule(await readFile(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true },
    });
    const target = join(temp.path, 'app', relative(APP, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, out.outputText);
  }
  await writeFile(join(temp.path, 'package.json'), '{ "type": "module" }\n');
  await symlink(join(REPO, 'node_modules'), join(temp.path, 'node_modules'), 'dir');
  return { cliEntry: join(temp.path, 'app', 'cli', 'netfs-sync.js'), remove: () => temp.remove() };
}

// Lets a plain `node` child process run this repository's TypeScript straight from app/ (tests
// only: the strace fault tests run the engine in a child that strace starts; see
// direct-write-source.test.ts). Node 20 cannot strip types itself, so:
//
//   node --import app/testing/ts-loader.mjs child.ts
//     main thread:  register(this file)  ──>  hooks thread: resolve() / load()
//       resolve  './x.js' imported from a .ts file, where only x.ts exists  ->  x.ts
//       load     *.ts  ->  typescript's transpileModule (types erased, no type check)  ->  ESM
//
// Type checking stays with `tsc -b`; this only erases types, file by file (isolatedModules).
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

let ts;

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') === true && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const asTs = new URL(specifier.slice(0, -3) + '.ts', parent);
    if (!existsSync(new URL(specifier, parent)) && existsSync(asTs)) return { url: asTs.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  ts ??= (await import('typescript')).default;
  const file = fileURLToPath(url);
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2023,
      verbatimModuleSyntax: true,
      inlineSourceMap: true,
    },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}

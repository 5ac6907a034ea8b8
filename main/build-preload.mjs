#!/usr/bin/env node
// Bundles the preload (main/preload.ts) with the contract it uses (app/api, zod) into one
// CommonJS file, dist/main/preload.cjs: a sandboxed preload can `require('electron')` and a
// few built-ins, but no other file. `electron` stays external; nothing of Node is bundled.
//
//   main/preload.ts + app/api/*.ts + zod --vite (library mode, cjs)--> dist/main/preload.cjs
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  root,
  configFile: false,
  logLevel: 'warn',
  build: {
    outDir: 'dist/main',
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    target: 'chrome140',
    lib: { entry: 'main/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: {
      // The preload may load electron only; a Node built-in in the bundle is an error.
      external: ['electron'],
      onwarn(warning, warn) {
        warn(warning);
      },
    },
  },
  plugins: [
    {
      name: 'no-node-in-preload',
      resolveId(id) {
        if (builtinModules.includes(id.replace(/^node:/, ''))) throw new Error(`the preload must not import ${id}`);
        return null;
      },
    },
  ],
});

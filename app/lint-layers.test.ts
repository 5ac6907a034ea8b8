// The import rules of DESIGN §3 fail lint when broken: each fixture is linted as if it lived
// in the named folder, with the project's own eslint.config.js.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function importErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering (DESIGN §3) is enforced by lint', () => {
  it.each([
    ['app/remote/x.ts', "import { app } from 'electron';", /Only main\//],
    ['app/netfs/x.ts', "import { ipcMain } from 'electron/main';", /Only main\//],
    ['app/sync/x.ts', "import { x } from '../../renderer/y.js';", /must not import main\/ or renderer\//],
    ['app/sync/x.ts', "import { x } from '../../main/y.js';", /must not import main\/ or renderer\//],
    ['app/api/x.ts', "import { readFile } from 'node:fs';", /pure/],
    ['app/api/x.ts', "import { readFile } from 'fs';", /pure/],
    ['app/api/x.ts', "import { request } from 'undici';", /zod and its own files/],
    ['app/api/x.ts', "import { NetfsError } from '../remote/backend.js';", /zod and its own files/],
    ['renderer/x.tsx', "import { readFile } from 'node:fs';", /DOM/],
    ['renderer/x.tsx', "import { ipcRenderer } from 'electron';", /Only main\//],
    ['renderer/x.tsx', "import { x } from '../app/netfs/engine.js';", /only app\/api/],
    ['renderer/views/x.tsx', "import { x } from '../../app/sync/journal.js';", /only app\/api/],
    ['renderer/x.tsx', "import { x } from '../main/preload.js';", /must not import main\//],
  ])('%s: %s is refused', async (file, code, message) => {
    const errors = await importErrors(file, code);
    expect(errors.some((e) => message.test(e)), errors.join('; ') || 'no error').toBe(true);
  });

  it.each([
    ['app/remote/x.ts', "import { readFile } from 'node:fs';\nimport { NetfsError } from '../api/errors.js';"],
    ['app/api/x.ts', "import { z } from 'zod';\nimport { ERROR_CODES } from './errors.js';"],
    ['renderer/x.tsx', "import { ERROR_CODES } from '../app/api/errors.js';"],
    ['renderer/views/x.tsx', "import { ERROR_CODES } from '../../app/api/index.js';"],
    ['main/x.ts', "import { app } from 'electron';\nimport { x } from '../app/sync/y.js';"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await importErrors(file, code)).toEqual([]);
  });
});

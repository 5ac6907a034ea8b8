/**
 * The outcome of the last finished pass, kept in `<state>/last-pass.json` for `status` and the
 * app (written by the engine, read by anyone).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const LAST_PASS_FILE = 'last-pass.json';

const schema = z.object({
  finishedMs: z.number(),
  done: z.number(),
  skipped: z.number(),
  failed: z.number(),
  conflicts: z.number(),
  bytesDown: z.number(),
  bytesUp: z.number(),
  held: z.string().nullable(),
});
export type LastPass = z.infer<typeof schema>;

export async function lastPass(stateDir: string): Promise<LastPass | null> {
  try {
    const parsed = schema.safeParse(JSON.parse(await readFile(join(stateDir, LAST_PASS_FILE), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function saveLastPass(stateDir: string, pass: LastPass): Promise<void> {
  const file = join(stateDir, LAST_PASS_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(pass), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

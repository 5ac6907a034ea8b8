/**
 * The state folder of one account (mode 0700): everything the client keeps outside the sync
 * folder.
 *
 *   <state>/
 *     account.json     remote URL, user, sync root, CA file, format version   (0600)
 *     secret           the password, when there is one                        (0600)
 *     secret.enc       instead of secret in the Electron app: encrypted by safeStorage (useSecretStore)
 *     journal.sqlite   the sync journal (journal.ts)
 *     cache/           the content store (app/cache)
 *     trash/           local files removed because the server deleted them (trash.ts)
 *     logs/            structured logs, rotated by size
 *     engine.lock      the running engine's pid (lock.ts)
 *
 *   <sync root>/.netfs-root   marker: a root without it (unmounted, emptied) is "missing" (F17)
 *
 * `initStateFolder` refuses a folder that already holds an account; the password is never
 * written anywhere but `secret`, and never appears in errors.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { NetfsError } from '../api/errors.js';

export const ACCOUNT_FILE = 'account.json';
export const SECRET_FILE = 'secret';
/** The password encrypted by the Electron app's SecretStore (main/credentials.ts). */
export const SECRET_ENC_FILE = 'secret.enc';
export const JOURNAL_FILE = 'journal.sqlite';
export const CACHE_DIR = 'cache';
export const TRASH_DIR = 'trash';
export const LOGS_DIR = 'logs';
export const LOCK_FILE = 'engine.lock';
/** The marker in the sync root's top level. */
export const ROOT_MARKER = '.netfs-root';

const ACCOUNT_FORMAT = 1;

const accountSchema = z.object({
  format: z.literal(ACCOUNT_FORMAT),
  /** Cache volume name: stable per account. */
  id: z.string().min(1),
  remote: z.string().min(1),
  local: z.string().min(1),
  user: z.string().nullable(),
  ca: z.string().nullable(),
  createdAt: z.string(),
});
export type Account = z.infer<typeof accountSchema>;

export interface StateFolder {
  dir: string;
  account: Account;
  /** The password, or null when the account has none. */
  password: string | null;
  journalFile: string;
  cacheDir: string;
  trashDir: string;
  logsDir: string;
  lockFile: string;
}

export interface InitOptions {
  remote: string;
  local: string;
  user?: string | null;
  password?: string | null;
  ca?: string | null;
}

function paths(dir: string, account: Account, password: string | null): StateFolder {
  return {
    dir,
    account,
    password,
    journalFile: join(dir, JOURNAL_FILE),
    cacheDir: join(dir, CACHE_DIR),
    trashDir: join(dir, TRASH_DIR),
    logsDir: join(dir, LOGS_DIR),
    lockFile: join(dir, LOCK_FILE),
  };
}

/**
 * Where the account's password is kept instead of the `secret` file: the Electron app registers
 * one backed by safeStorage (main/credentials.ts); the CLI and the headless host register none.
 */
export interface SecretStore {
  /** The password of the account in `dir`, or null when it has none. */
  read(dir: string): Promise<string | null>;
  write(dir: string, password: string): Promise<void>;
}

let secretStore: SecretStore | null = null;

/** Sets the process-wide secret store (null: the `secret` file of mode 0600, as the CLI keeps it). */
export function useSecretStore(store: SecretStore | null): void {
  secretStore = store;
}

/** Writes `data` to `file` with mode 0600 through a temp name, fsynced, then renamed. */
export async function writePrivate(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${randomUUID()}`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/** Creates a state folder for one account; refuses one that already holds an account. */
export async function initStateFolder(dirArg: string, options: InitOptions): Promise<StateFolder> {
  const dir = resolve(dirArg);
  const local = resolve(options.local);
  if (local === dir || local.startsWith(`${dir}/`) || dir.startsWith(`${local}/`)) {
    throw new NetfsError('INVALID_ARGUMENT', `the state folder ${dir} and the sync folder ${local} must not contain each other`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const existing = await stat(join(dir, ACCOUNT_FILE)).catch(() => null);
  if (existing !== null) throw new NetfsError('CONFLICT', `${dir} is already initialised (it holds ${ACCOUNT_FILE}); use another --state folder`);
  const localInfo = await lstat(local).catch(() => null);
  if (localInfo !== null && !localInfo.isDirectory()) throw new NetfsError('INVALID_ARGUMENT', `the sync folder ${local} exists and is not a folder`);
  await mkdir(local, { recursive: true });
  for (const sub of [CACHE_DIR, TRASH_DIR, LOGS_DIR]) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  const account: Account = {
    format: ACCOUNT_FORMAT,
    id: randomUUID(),
    remote: options.remote,
    local,
    user: options.user ?? null,
    ca: options.ca === undefined || options.ca === null ? null : resolve(options.ca),
    createdAt: new Date().toISOString(),
  };
  const password = options.password ?? null;
  if (password !== null) await (secretStore === null ? writePrivate(join(dir, SECRET_FILE), password) : secretStore.write(dir, password));
  await writeRootMarker(local, account.id);
  // account.json last: a folder without it is not initialised, so a failed init can be retried.
  await writePrivate(join(dir, ACCOUNT_FILE), `${JSON.stringify(account, null, 2)}\n`);
  return paths(dir, account, password);
}

/** Opens an initialised state folder. */
export async function openStateFolder(dirArg: string): Promise<StateFolder> {
  const dir = resolve(dirArg);
  let text: string;
  try {
    text = await readFile(join(dir, ACCOUNT_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NetfsError('NOT_FOUND', `${dir} is not an initialised state folder (no ${ACCOUNT_FILE}); run "netfs-sync init" first`);
    }
    throw new NetfsError('IO', `cannot read ${join(dir, ACCOUNT_FILE)}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new NetfsError('PROTOCOL', `${join(dir, ACCOUNT_FILE)} is not valid JSON`);
  }
  const result = accountSchema.safeParse(parsed);
  if (!result.success) {
    throw new NetfsError('PROTOCOL', `${join(dir, ACCOUNT_FILE)} is not an account file this version understands: ${result.error.issues[0]?.message ?? 'invalid'}`);
  }
  if (secretStore !== null) return paths(dir, result.data, await secretStore.read(dir));
  let password: string | null = null;
  try {
    password = await readFile(join(dir, SECRET_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new NetfsError('IO', `cannot read the account's secret: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return paths(dir, result.data, password);
}

/** Writes the root marker (idempotent). */
export async function writeRootMarker(root: string, accountId: string): Promise<void> {
  await writePrivate(join(root, ROOT_MARKER), `netfs-sync root of account ${accountId}\n`);
}

/** The sync root is there and carries our marker; a missing or emptied root is F17. */
export async function rootPresent(root: string): Promise<boolean> {
  const marker = await lstat(join(root, ROOT_MARKER)).catch(() => null);
  return marker !== null && marker.isFile();
}

/**
 * The account's password in the Electron app: encrypted with `safeStorage` (the OS keyring:
 * Keychain, DPAPI, libsecret/kwallet) into `<state>/secret.enc`, never in plain text (S6;
 * DESIGN §7). Registered with app/sync/state-folder.ts (useSecretStore), so the engine reads
 * and writes the password through it.
 *
 *   policy (after app ready):  isEncryptionAvailable()?  --no-->  refused  (unless the user
 *                              backend == basic_text?    --yes->  refused   said yes: then
 *                              else                      ------>  keyring   'file' / 'weak')
 *
 *   read(state)    <state>/secret (left by the CLI, 0600) present?
 *                     --> encrypt -> secret.enc (0600, temp + fsync + rename) -> decrypt check
 *                         -> secret removed (the move of DESIGN §7)
 *                  secret.enc --> decryptString --> password
 *   write(state)   encrypt -> secret.enc; a stale plain `secret` is removed
 *
 * 'refused' throws INSECURE before anything is written; the CLI's file is left untouched.
 */
import { constants } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { NetfsError } from '../app/api/errors.js';
import { SECRET_ENC_FILE, SECRET_FILE, writePrivate, type SecretStore } from '../app/sync/state-folder.js';

export { SECRET_ENC_FILE };

/** The command-line flag by which the user agrees to weaker storage of the password. */
export const ALLOW_WEAK_SECRETS_FLAG = '--allow-weak-secret-storage';

export type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> & {
  /** Linux only (electron docs): 'basic_text' means a hard-coded key, i.e. no real protection. */
  getSelectedStorageBackend?: () => string;
};

/**
 * How the password may be kept:
 * - keyring: safeStorage with a real OS keyring;
 * - weak: safeStorage on its 'basic_text' backend, because the user agreed;
 * - file: no encryption at all here, the CLI's 0600 file, because the user agreed;
 * - refused: with the reason shown to the user.
 */
export type StoragePolicy = { kind: 'keyring' } | { kind: 'weak' } | { kind: 'file' } | { kind: 'refused'; reason: string };

export interface CredentialOptions {
  safeStorage: SafeStorageLike;
  /** The user explicitly agreed to weaker storage (ALLOW_WEAK_SECRETS_FLAG or a setting). */
  allowWeak: boolean;
  platform?: NodeJS.Platform;
}

/** Decides how the password may be kept (call after the app is ready: before, Linux reports no keyring). */
export function storagePolicy(options: CredentialOptions): StoragePolicy {
  const { safeStorage, allowWeak } = options;
  const platform = options.platform ?? process.platform;
  if (!safeStorage.isEncryptionAvailable()) {
    return allowWeak ? { kind: 'file' } : { kind: 'refused', reason: `no OS keyring is available to encrypt the password; start the app with ${ALLOW_WEAK_SECRETS_FLAG} to keep it in a file readable only by you` };
  }
  const backend = platform === 'linux' ? safeStorage.getSelectedStorageBackend?.() : undefined;
  if (backend === 'basic_text') {
    return allowWeak ? { kind: 'weak' } : { kind: 'refused', reason: `only the plain-text backend of the OS keyring is available (no gnome-libsecret or kwallet); start the app with ${ALLOW_WEAK_SECRETS_FLAG} to accept it` };
  }
  return { kind: 'keyring' };
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new NetfsError('IO', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The safeStorage-backed SecretStore of the Electron app. */
export class KeyringSecrets implements SecretStore {
  readonly #options: CredentialOptions;

  constructor(options: CredentialOptions) {
    this.#options = options;
  }

  policy(): StoragePolicy {
    return storagePolicy(this.#options);
  }

  #allowed(): Exclude<StoragePolicy, { kind: 'refused' }> {
    const policy = this.policy();
    if (policy.kind === 'refused') throw new NetfsError('INSECURE', `the account's password is not stored: ${policy.reason}`);
    return policy;
  }

  #encrypt(password: string): Buffer {
    const sealed = this.#options.safeStorage.encryptString(password);
    if (sealed.includes(Buffer.from(password, 'utf8')) && password.length > 0) {
      throw new NetfsError('INSECURE', 'safeStorage returned the password unencrypted; it is not stored');
    }
    return sealed;
  }

  /** Moves a plain `secret` left by the CLI into secret.enc; says whether there was one. */
  async migrate(dir: string): Promise<boolean> {
    const plainFile = join(dir, SECRET_FILE);
    const plain = await readOrNull(plainFile);
    if (plain === null) return false;
    const policy = this.#allowed();
    if (policy.kind === 'file') return false;
    const password = plain.toString('utf8');
    const sealed = this.#encrypt(password);
    await writePrivate(join(dir, SECRET_ENC_FILE), sealed);
    // Remove the plain copy only once the sealed one is on disk and reads back.
    const back = this.#options.safeStorage.decryptString(await readFile(join(dir, SECRET_ENC_FILE)));
    if (back !== password) throw new NetfsError('IO', `${SECRET_ENC_FILE} does not read back as written; ${SECRET_FILE} is kept`);
    await unlink(plainFile);
    await syncDir(dir);
    return true;
  }

  async read(dir: string): Promise<string | null> {
    const hasPlain = (await readOrNull(join(dir, SECRET_FILE))) !== null;
    const sealed = await readOrNull(join(dir, SECRET_ENC_FILE));
    if (!hasPlain && sealed === null) return null;
    const policy = this.#allowed();
    if (policy.kind === 'file') {
      if (hasPlain) return (await readFile(join(dir, SECRET_FILE))).toString('utf8');
      throw new NetfsError('INSECURE', `the password is in ${SECRET_ENC_FILE}, and no OS keyring is available to decrypt it; add the account again`);
    }
    if (hasPlain) await this.migrate(dir);
    const data = await readFile(join(dir, SECRET_ENC_FILE));
    try {
      return this.#options.safeStorage.decryptString(data);
    } catch {
      throw new NetfsError('AUTH', `the password in ${SECRET_ENC_FILE} cannot be decrypted by this user's keyring; add the account again`);
    }
  }

  async write(dir: string, password: string): Promise<void> {
    const policy = this.#allowed();
    if (policy.kind === 'file') {
      await writePrivate(join(dir, SECRET_FILE), password);
      return;
    }
    await writePrivate(join(dir, SECRET_ENC_FILE), this.#encrypt(password));
    await unlink(join(dir, SECRET_FILE)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await syncDir(dir);
  }
}

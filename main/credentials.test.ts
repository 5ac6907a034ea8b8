// S6: the account's password in the Electron app, with safeStorage as available / unavailable /
// basic_text. safeStorage is the electron test double (electron-double.ts: AES-GCM under a key
// only it holds, like an OS keyring) — Electron's binary cannot run on these machines, and
// credentials.ts imports `electron` for types only, so no module mock is needed. Files, modes
// and the state folder code are real.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initStateFolder, openStateFolder, useSecretStore } from '../app/sync/state-folder.js';
import { KeyringSecrets, SECRET_ENC_FILE, storagePolicy } from './credentials.js';
import { SafeStorageDouble } from './electron-double.js';

const PASSWORD = 'correct horse battery staple ✓';
let tmp: string;
let safeStorage: SafeStorageDouble;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'netfs-cred-'));
  safeStorage = new SafeStorageDouble();
});

afterEach(async () => {
  useSecretStore(null);
  await rm(tmp, { recursive: true, force: true });
});

async function allFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true, recursive: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Every file under `dir` that holds the password in plain text (UTF-8, UTF-16 or base64). */
async function plainCopies(dir: string): Promise<string[]> {
  const needles = [Buffer.from(PASSWORD, 'utf8'), Buffer.from(PASSWORD, 'utf16le'), Buffer.from(Buffer.from(PASSWORD).toString('base64'))];
  const found: string[] = [];
  for (const f of await allFiles(dir)) {
    const bytes = await readFile(f);
    if (needles.some((n) => bytes.includes(n))) found.push(f);
  }
  return found;
}

/** A state folder as `netfs-sync init` leaves it: the password in `secret` (0600). */
async function cliState(): Promise<string> {
  const state = join(tmp, 'state');
  await mkdir(join(tmp, 'remote'));
  await initStateFolder(state, { remote: `file://${join(tmp, 'remote')}`, local: join(tmp, 'sync'), user: 'ann', password: PASSWORD });
  return state;
}

describe('credentials with safeStorage (S6)', () => {
  it('policy: keyring when available; unavailable or basic_text refused unless the user agreed', () => {
    expect(storagePolicy({ safeStorage, allowWeak: false, platform: 'linux' })).toEqual({ kind: 'keyring' });
    safeStorage.mode = 'basic_text';
    expect(storagePolicy({ safeStorage, allowWeak: false, platform: 'linux' })).toMatchObject({ kind: 'refused', reason: expect.stringContaining('plain-text backend') });
    expect(storagePolicy({ safeStorage, allowWeak: true, platform: 'linux' })).toEqual({ kind: 'weak' });
    safeStorage.mode = 'unavailable';
    expect(storagePolicy({ safeStorage, allowWeak: false, platform: 'darwin' })).toMatchObject({ kind: 'refused', reason: expect.stringContaining('no OS keyring') });
    expect(storagePolicy({ safeStorage, allowWeak: true, platform: 'win32' })).toEqual({ kind: 'file' });
  });

  it('available: a CLI-left secret is moved into secret.enc (0600), the plain file removed; the engine reads the password back', async () => {
    const state = await cliState();
    useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: false, platform: 'linux' }));
    const opened = await openStateFolder(state);
    expect(opened.password).toBe(PASSWORD);
    await expect(stat(join(state, 'secret'))).rejects.toThrow(/ENOENT/);
    expect((await stat(join(state, SECRET_ENC_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(state)).mode & 0o777).toBe(0o700);
    expect(await plainCopies(state)).toEqual([]);
    expect((await openStateFolder(state)).password).toBe(PASSWORD);
  });

  it('available: an account added in the app is stored encrypted only, never in plain text', async () => {
    useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: false, platform: 'linux' }));
    await mkdir(join(tmp, 'remote'));
    const state = join(tmp, 'state');
    await initStateFolder(state, { remote: `file://${join(tmp, 'remote')}`, local: join(tmp, 'sync'), user: 'ann', password: PASSWORD });
    expect((await allFiles(state)).map((f) => f.slice(state.length + 1)).sort()).toEqual(['account.json', SECRET_ENC_FILE]);
    expect(await plainCopies(state)).toEqual([]);
    expect(await plainCopies(join(tmp, 'sync'))).toEqual([]);
    expect((await openStateFolder(state)).password).toBe(PASSWORD);
  });

  it('basic_text or unavailable without consent: refused (INSECURE) before anything is written; the CLI folder is left as it was', async () => {
    const state = await cliState();
    const before = await readFile(join(state, 'secret'));
    for (const mode of ['basic_text', 'unavailable'] as const) {
      safeStorage.mode = mode;
      useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: false, platform: 'linux' }));
      await expect(openStateFolder(state)).rejects.toMatchObject({ code: 'INSECURE' });
      await expect(openStateFolder(state)).rejects.not.toThrow(PASSWORD);
      expect(await readFile(join(state, 'secret'))).toEqual(before);
      await expect(stat(join(state, SECRET_ENC_FILE))).rejects.toThrow(/ENOENT/);
      // A new account is refused too, and leaves no password behind.
      const fresh = join(tmp, `fresh-${mode}`);
      await expect(initStateFolder(fresh, { remote: `file://${join(tmp, 'remote')}`, local: join(tmp, `sync-${mode}`), password: PASSWORD })).rejects.toMatchObject({ code: 'INSECURE' });
      expect(await plainCopies(fresh)).toEqual([]);
    }
  });

  it('basic_text with consent: kept through safeStorage (still never in plain text in any file)', async () => {
    const state = await cliState();
    safeStorage.mode = 'basic_text';
    useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: true, platform: 'linux' }));
    expect((await openStateFolder(state)).password).toBe(PASSWORD);
    await expect(stat(join(state, 'secret'))).rejects.toThrow(/ENOENT/);
    expect(await plainCopies(state)).toEqual([]);
  });

  it('unavailable with consent: the CLI\'s 0600 file stays the store (the user agreed); a secret.enc it cannot open is an error', async () => {
    const state = await cliState();
    safeStorage.mode = 'unavailable';
    useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: true, platform: 'linux' }));
    expect((await openStateFolder(state)).password).toBe(PASSWORD);
    expect((await stat(join(state, 'secret'))).mode & 0o777).toBe(0o600);
    await rm(join(state, 'secret'));
    await writeFile(join(state, SECRET_ENC_FILE), 'v11-sealed-elsewhere', { mode: 0o600 });
    await expect(openStateFolder(state)).rejects.toMatchObject({ code: 'INSECURE' });
  });

  it('a secret.enc sealed by another keyring is an AUTH error, not garbage handed to the server', async () => {
    const state = await cliState();
    useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: false, platform: 'linux' }));
    await openStateFolder(state);
    useSecretStore(new KeyringSecrets({ safeStorage: new SafeStorageDouble(), allowWeak: false, platform: 'linux' }));
    await expect(openStateFolder(state)).rejects.toMatchObject({ code: 'AUTH' });
  });

  it('a safeStorage that hands back the plain text is not trusted', async () => {
    const state = await cliState();
    const leaky = { isEncryptionAvailable: () => true, getSelectedStorageBackend: () => 'kwallet5', encryptString: (s: string) => Buffer.from(s), decryptString: (b: Buffer) => b.toString() };
    useSecretStore(new KeyringSecrets({ safeStorage: leaky, allowWeak: false, platform: 'linux' }));
    await expect(openStateFolder(state)).rejects.toMatchObject({ code: 'INSECURE' });
    expect(await readFile(join(state, 'secret'), 'utf8')).toBe(PASSWORD);
    await expect(stat(join(state, SECRET_ENC_FILE))).rejects.toThrow(/ENOENT/);
  });

  it('an account without a password needs no keyring at all', async () => {
    await mkdir(join(tmp, 'remote'));
    const state = join(tmp, 'state');
    safeStorage.mode = 'unavailable';
    useSecretStore(new KeyringSecrets({ safeStorage, allowWeak: false, platform: 'linux' }));
    await initStateFolder(state, { remote: `file://${join(tmp, 'remote')}`, local: join(tmp, 'sync') });
    expect((await openStateFolder(state)).password).toBeNull();
  });
});

/**
 * "Open" in the app: the contract's `files.open` hydrates the file into the sync folder (an
 * online-only file is downloaded or taken from the cache) and answers its local path; the
 * main process then hands that path to the OS with `shell.openPath`.
 *
 *   netfs:call files.open --dispatch--> {ok, value: {localPath}}
 *        --> inside the account's sync folder (real paths)?   no --> FORBIDDEN
 *        --> a program or script (.exe, .sh, .desktop …)?     yes --> shown in its folder, not run
 *        --> shell.openPath(localPath)  ('' = done, else IO with the OS's reason)
 */
import { realpath } from 'node:fs/promises';
import { extname, sep } from 'node:path';
import type { Shell } from 'electron';
import type { CommandName, Result } from '../app/api/contract.js';
import type { AfterCall, EngineService } from './ipc.js';

/** Extensions the OS would run rather than show: opened by revealing them in their folder instead. */
const RUNNABLE = new Set([
  '.app', '.appimage', '.application', '.bat', '.cmd', '.com', '.command', '.cpl', '.desktop', '.exe', '.gadget', '.hta', '.inf', '.jar', '.js', '.jse',
  '.lnk', '.msc', '.msi', '.msp', '.pif', '.ps1', '.psm1', '.reg', '.run', '.scf', '.scr', '.sh', '.url', '.vb', '.vbe', '.vbs', '.ws', '.wsf', '.wsh',
]);

/** True when opening `path` with the OS would run it as a program. */
export function isRunnable(path: string): boolean {
  return RUNNABLE.has(extname(path).toLowerCase());
}

function failure(code: 'FORBIDDEN' | 'IO', message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

/** The after-hook of `files.open` for installIpc. */
export function openAfterCall(shell: Pick<Shell, 'openPath' | 'showItemInFolder'>, service: EngineService): AfterCall {
  return async (command: CommandName, result: Result<unknown>) => {
    if (command !== 'files.open' || !result.ok) return result;
    const { localPath } = result.value as { localPath: string };
    const account = await service.handlers['account.get']({});
    if (account === null) return failure('FORBIDDEN', 'no account: nothing to open');
    let real: string;
    let root: string;
    try {
      [real, root] = await Promise.all([realpath(localPath), realpath(account.local)]);
    } catch (e) {
      return failure('IO', `cannot open ${localPath}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (!real.startsWith(root + sep)) return failure('FORBIDDEN', `${localPath} is not inside the sync folder`);
    if (isRunnable(real)) {
      shell.showItemInFolder(real);
      return result;
    }
    const error = await shell.openPath(real);
    return error === '' ? result : failure('IO', `cannot open ${localPath}: ${error}`);
  };
}

/**
 * Checks of command-line values, each failing with INVALID_ARGUMENT (exit 2) naming the option
 * and what was wrong with it.
 */
import { NetfsError } from '../api/errors.js';
import { parseRemotePath } from '../remote/path.js';

/** A non-negative integer option (`--offset`, `--length`, `--port`). */
export function nonNegativeInt(option: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new NetfsError('INVALID_ARGUMENT', `${option} takes a whole number of bytes, not ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new NetfsError('INVALID_ARGUMENT', `${option} ${raw} is too large`);
  return n;
}

/** A PATH argument: a remote path with a leading '/', decoded names ('/docs/a b.txt'). */
export function remotePathArg(raw: string): string {
  if (!raw.startsWith('/')) throw new NetfsError('INVALID_ARGUMENT', `PATH must be a remote path starting with "/" (e.g. "/docs/a b.txt"), not ${JSON.stringify(raw)}`);
  const trimmed = raw.length > 1 && raw.endsWith('/') ? raw.replace(/\/+$/, '') : raw;
  parseRemotePath(trimmed === '' ? '/' : trimmed);
  return trimmed === '' ? '/' : trimmed;
}

/** A value from one of `choices`. */
export function oneOf<T extends string>(option: string, raw: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new NetfsError('INVALID_ARGUMENT', `${option} must be one of ${choices.join(', ')}, not ${JSON.stringify(raw)}`);
}

/**
 * The CLI's exit codes (issue 5; other tools depend on them) and how an error maps to one.
 *
 *   0 success (sync --once: both sides in sync)     3 the remote is unreachable
 *   1 failure, named on stderr (auth included)      4 a plan is held and needs --yes
 *   2 bad usage                                     5 the pass finished, some items failed or wait
 */
import type { ErrorCode } from '../api/errors.js';

export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  HELD: 4,
  ITEMS_FAILED: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit code for a command that failed with `code`. */
export function exitCodeFor(code: ErrorCode): ExitCode {
  if (code === 'UNREACHABLE') return EXIT.UNREACHABLE;
  if (code === 'INVALID_ARGUMENT') return EXIT.USAGE;
  return EXIT.FAILURE;
}

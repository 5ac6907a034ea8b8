// Finds the executables the test harness drives (apache2, htpasswd, rclone, strace, ...) and
// says which Debian package to install when one is missing.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Folders searched after PATH: root's sbin folders are often missing from a test's PATH. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of `name` on PATH or in the usual system folders, or null. */
export function findBinary(name: string): string | null {
  if (name.includes('/')) return isExecutableFile(name) ? name : null;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** Like findBinary, but throws an Error naming the Debian package that provides `name`. */
export function requireBinary(name: string, debianPackage: string): string {
  const found = findBinary(name);
  if (found !== null) return found;
  throw new Error(
    `${name} not found: install the Debian package ${debianPackage} (apt-get install -y ${debianPackage})`,
  );
}

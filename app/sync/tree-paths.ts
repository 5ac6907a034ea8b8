/**
 * Cheap string helpers for the remote paths the sync layer keys everything by ('/', '/a', '/a/b').
 * The paths were checked once by discovery (app/remote/path.ts); these only cut strings, so a
 * planner pass over 50,000 paths does not parse each one again.
 *
 *   parentOf('/a/b/c') = '/a/b'     depthOf('/') = 0, depthOf('/a/b') = 2
 *   isAtOrUnder('/a/b', '/a') = true, isAtOrUnder('/ab', '/a') = false
 *   ancestorsOf('/a/b/c') = ['/a/b', '/a', '/']
 */

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function depthOf(path: string): number {
  if (path === '/') return 0;
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

export function isAtOrUnder(path: string, folder: string): boolean {
  if (folder === '/') return true;
  return path === folder || (path.startsWith(folder) && path.charCodeAt(folder.length) === 47);
}

/** The strict ancestors of a path, nearest first, ending with '/' (none for the root). */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  let p = path;
  while (p !== '/') {
    p = parentOf(p);
    out.push(p);
  }
  return out;
}

/** The last name of a path ('' for the root). */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

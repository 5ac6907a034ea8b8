/**
 * Who may talk to the headless host: the Host allowlist (S8, against DNS rebinding) and the
 * Origin check (S9, against other sites' pages).
 *
 *   Host    exactly 127.0.0.1:PORT, [::1]:PORT or localhost:PORT (case-insensitive); anything
 *           else, a missing Host included, gets 403 before any other check or handler runs
 *   Origin  absent (not a browser page: the token decides), or http:// + an allowed Host;
 *           anything else ('null', another host or port, https://) is foreign
 */

export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `[::1]:${port}`, `localhost:${port}`]);
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).has(host.toLowerCase());
}

export type OriginVerdict = 'none' | 'same' | 'foreign';

export function originVerdict(origin: string | undefined, port: number): OriginVerdict {
  if (origin === undefined) return 'none';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'foreign';
  }
  if (url.protocol !== 'http:' || url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '')) return 'foreign';
  return origin.toLowerCase() === `http://${url.host}` && allowedHosts(port).has(url.host) ? 'same' : 'foreign';
}

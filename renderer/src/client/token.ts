/**
 * The per-launch token of the headless host, handed over in the URL fragment
 * (`http://127.0.0.1:PORT/#token=TOKEN`, never sent to the server in a request line):
 *
 *   location.hash --read--> sessionStorage (this tab only, survives a reload)
 *                 --history.replaceState--> address bar without the token
 */
const KEY = 'netfs.token';
const TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;

export interface TokenPlace {
  hash: string;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** Replaces the address shown (without the fragment). */
  replaceAddress: (withoutFragment: string) => void;
  pathAndQuery: string;
}

/** Reads the token from the fragment (then removes it from the address bar) or from this tab's storage. */
export function takeToken(place: TokenPlace): string | null {
  const params = new URLSearchParams(place.hash.startsWith('#') ? place.hash.slice(1) : place.hash);
  const fromHash = params.get('token');
  if (fromHash !== null) {
    place.replaceAddress(place.pathAndQuery);
    if (TOKEN_RE.test(fromHash)) {
      try {
        place.storage?.setItem(KEY, fromHash);
      } catch {
        // storage may be disabled; the token still works for this page's life
      }
      return fromHash;
    }
    return null;
  }
  try {
    const kept = place.storage?.getItem(KEY) ?? null;
    return kept !== null && TOKEN_RE.test(kept) ? kept : null;
  } catch {
    return null;
  }
}

/** The browser's own location, storage and history. */
export function browserTokenPlace(): TokenPlace {
  let storage: Storage | null = null;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = null;
  }
  return {
    hash: window.location.hash,
    storage,
    pathAndQuery: window.location.pathname + window.location.search,
    replaceAddress: (url) => window.history.replaceState(null, '', url),
  };
}

/**
 * Where the app's web contents may go: nowhere but app://netfs (S2; electron security checklist
 * #13–15). Links meant for the browser go out through `openExternalSafely`, which passes only
 * parsed `https:` URLs to the OS.
 *
 *   will-navigate / will-redirect / will-frame-navigate   to app://netfs/…  -> allowed
 *                                                          anything else    -> preventDefault
 *   window.open / target=_blank  -> setWindowOpenHandler  -> always { action: 'deny' }
 *                                   (an https: URL is handed to shell.openExternal)
 *   <webview>                    -> will-attach-webview   -> preventDefault
 */
import type { Shell, WebContents } from 'electron';
import { APP_HOST, APP_SCHEME } from './protocol.js';

/** True for a URL of the app's own origin. */
export function isAppUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** The URL the OS may open: a parsed https: URL with a host and no credentials; null otherwise. */
export function externalUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.hostname === '' || url.username !== '' || url.password !== '') return null;
  return url.href;
}

/** Opens `raw` in the user's browser when it is a plain https: URL; says whether it did. */
export async function openExternalSafely(shell: Pick<Shell, 'openExternal'>, raw: string): Promise<boolean> {
  const url = externalUrl(raw);
  if (url === null) return false;
  await shell.openExternal(url);
  return true;
}

type Guardable = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** Refuses navigation away from the app, new windows and webviews for one web contents. */
export function guardNavigation(contents: Guardable, shell: Pick<Shell, 'openExternal'>): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    void openExternalSafely(shell, url).catch(() => undefined);
    return { action: 'deny' };
  });
}

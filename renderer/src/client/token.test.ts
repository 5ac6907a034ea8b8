// The headless host's token comes in the URL fragment and leaves the address bar at once
// (issue 7 item 4, S10: never in a URL that gets logged); a reload in the same tab finds it
// in this tab's storage.
import { describe, expect, it } from 'vitest';
import { takeToken, type TokenPlace } from './token.js';

const TOKEN = 'NB8f-53WAV9ZegL5dulIGeuUIAxnUBUZwTgxTv55WJE';

function place(hash: string, stored: string | null = null): TokenPlace & { replaced: string[]; store: Map<string, string> } {
  const store = new Map<string, string>();
  if (stored !== null) store.set('netfs.token', stored);
  const replaced: string[] = [];
  return {
    hash,
    pathAndQuery: '/',
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
    replaceAddress: (u) => void replaced.push(u),
    replaced,
    store,
  };
}

describe('takeToken (S10)', () => {
  it('reads #token=…, removes it from the address bar and keeps it for this tab', () => {
    const p = place(`#token=${TOKEN}`);
    expect(takeToken(p)).toBe(TOKEN);
    expect(p.replaced).toEqual(['/']);
    expect(p.store.get('netfs.token')).toBe(TOKEN);
  });

  it('after a reload (no fragment) the tab’s stored token is used', () => {
    expect(takeToken(place('', TOKEN))).toBe(TOKEN);
    expect(takeToken(place('#/files', TOKEN))).toBe(TOKEN);
  });

  it('a malformed token is removed from the address bar but not used or kept', () => {
    const p = place('#token=<script>');
    expect(takeToken(p)).toBeNull();
    expect(p.replaced).toEqual(['/']);
    expect(p.store.size).toBe(0);
  });

  it('no token anywhere: null', () => {
    expect(takeToken(place(''))).toBeNull();
  });
});

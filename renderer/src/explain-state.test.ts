// "Why is this file in this state" (issue 8 "Files"), from an entry as files.list gives it.
import { describe, expect, it } from 'vitest';
import type { EntryInfo } from '../../app/api/entries.js';
import { explainState } from './explain-state.js';

const base: EntryInfo = {
  path: '/a.bin',
  name: 'a.bin',
  kind: 'file',
  state: 'synced',
  placement: 'synced',
  content: 'none',
  flags: [],
  size: 1_000_000,
  mtimeMs: 0,
  baseEtag: '"x"',
  cachedBytes: 0,
  cachedRanges: [],
  lastError: null,
  nextRetryMs: null,
};

describe('explainState (DESIGN §1)', () => {
  it('synced file', () => {
    expect(explainState(base, 0)[0]).toMatch(/real file in the sync folder/);
  });

  it('online-only, partly cached: how much and that only those parts open offline', () => {
    const lines = explainState({ ...base, placement: 'online-only', content: 'partial', state: 'partial', cachedBytes: 250_000, cachedRanges: [[0, 250_000]] }, 0);
    expect(lines.join(' ')).toMatch(/online-only/);
    expect(lines.join(' ')).toMatch(/250 kB of 1.00 MB \(25 %\), in 1 ranges/);
  });

  it('error with its reason, attempts and next retry', () => {
    const lines = explainState({ ...base, flags: ['error'], state: 'error', lastError: { code: 'TRANSIENT', message: '503 from the server', attempts: 3 }, nextRetryMs: 30_000 }, 0);
    expect(lines).toContain('The last attempt failed (TRANSIENT, 3 attempts): 503 from the server');
    expect(lines.join(' ')).toMatch(/tried again in 30 s/);
  });

  it('pending and conflicted say what happens next', () => {
    const text = explainState({ ...base, flags: ['pending', 'conflicted'] }, 0).join(' ');
    expect(text).toMatch(/goes up on the next sync/);
    expect(text).toMatch(/conflicted copy/);
  });
});

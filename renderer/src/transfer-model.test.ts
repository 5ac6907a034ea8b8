// Subrequest flags and sources in words (issue 8 "Transfers": coloured by source and state).
import { describe, expect, it } from 'vitest';
import { REQUEST_FLAGS, SUBREQUEST_FLAGS as F } from '../../app/api/flags.js';
import { debugIdLabel, flagNames, requestNotes, sourceKind, subrequestState } from './transfer-model.js';

const s = (flags: number, transferred = 0, len = 10, error: string | null = null) => ({ source: 'DOWN', flags, transferred, len, error });

describe('transfer-model', () => {
  it('state by priority: failed > retrying > in flight > done > waiting', () => {
    expect(subrequestState(s(F.FAILED | F.IN_PROGRESS))).toBe('failed');
    expect(subrequestState(s(F.NEED_RETRY | F.IN_PROGRESS))).toBe('retrying');
    expect(subrequestState(s(F.RETRYING))).toBe('retrying');
    expect(subrequestState(s(F.IN_PROGRESS, 5))).toBe('in-flight');
    expect(subrequestState(s(0, 10))).toBe('done');
    expect(subrequestState(s(F.HIT_EOF, 3))).toBe('done');
    expect(subrequestState(s(0, 0))).toBe('waiting');
    expect(subrequestState(s(F.IN_PROGRESS), true)).toBe('done');
    expect(subrequestState(s(0, 0, 10, 'TRANSIENT'), true)).toBe('failed');
  });

  it('sources: server, cache, zero-fill, local copy', () => {
    expect(['DOWN', 'READ', 'ZERO', 'LOCL', 'UPLD', 'WRIT', '????'].map(sourceKind)).toEqual(['server', 'cache', 'zero-fill', 'local copy', 'server', 'cache', 'other']);
  });

  it('request flags in words and by name; debug ids as /proc/fs/netfs/requests prints them', () => {
    expect(requestNotes(REQUEST_FLAGS.RETRYING | REQUEST_FLAGS.NO_RANGES | REQUEST_FLAGS.IN_PROGRESS)).toEqual(['retrying', 'server ignores ranges']);
    expect(flagNames(REQUEST_FLAGS.IN_PROGRESS | REQUEST_FLAGS.ALL_QUEUED, REQUEST_FLAGS)).toEqual(['IN_PROGRESS', 'ALL_QUEUED']);
    expect(debugIdLabel(42)).toBe('R=0000002a');
  });
});

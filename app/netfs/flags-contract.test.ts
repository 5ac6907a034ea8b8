// The flag bits the contract publishes for the UI (app/api/flags.ts) are the engine's own.
import { describe, expect, it } from 'vitest';
import { REQUEST_FLAGS, SUBREQUEST_FLAGS } from '../api/flags.js';
import { RREQ, SREQ } from './objects.js';

describe('app/api flags match the engine (digest §1.4-1.5)', () => {
  it('subrequest flags are SREQ', () => {
    expect(SUBREQUEST_FLAGS).toEqual(SREQ);
  });
  it('request flags are RREQ', () => {
    expect(REQUEST_FLAGS).toEqual(RREQ);
  });
});

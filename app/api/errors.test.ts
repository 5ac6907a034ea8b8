import { describe, expect, it } from 'vitest';
import { errorShapeSchema } from './error-schema.js';
import { isNetfsError, NetfsError, toErrorShape } from './errors.js';

describe('error codes survive a process boundary', () => {
  it('a NetfsError becomes a plain shape that validates, and is recognised by shape, not prototype', () => {
    const e = new NetfsError('TRANSIENT', 'GET /x: HTTP 503', { retryAfterMs: 7000, status: 503 });
    const wire = JSON.parse(JSON.stringify(toErrorShape(e))) as unknown;
    expect(errorShapeSchema.parse(wire)).toEqual({ code: 'TRANSIENT', message: 'GET /x: HTTP 503', retryAfterMs: 7000, status: 503 });
    expect(isNetfsError(wire)).toBe(true);
    expect(isNetfsError({ code: 'NOPE', message: 'x' })).toBe(false);
    expect(toErrorShape(new Error('boom'))).toEqual({ code: 'IO', message: 'boom' });
    expect(() => errorShapeSchema.parse({ code: 'TRANSIENT' })).toThrow();
  });
});

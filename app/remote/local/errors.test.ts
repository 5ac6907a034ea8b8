import { describe, expect, it } from 'vitest';
import { NetfsError } from '../../api/errors.js';
import { cancelled, errnoOf, fsError, pathError, throwIfAborted } from './errors.js';

const osError = (code: string): Error => Object.assign(new Error(`${code}: something, open '/x'`), { code });

describe('local errors', () => {
  it('maps errno values to the codes of the brief, naming the path and what went wrong', () => {
    const table: [string, string][] = [
      ['ENOENT', 'NOT_FOUND'],
      ['EEXIST', 'CONFLICT'],
      ['ENOTDIR', 'CONFLICT'],
      ['EISDIR', 'CONFLICT'],
      ['ENOSPC', 'INSUFFICIENT_STORAGE'],
      ['EDQUOT', 'INSUFFICIENT_STORAGE'],
      ['EACCES', 'FORBIDDEN'],
      ['EPERM', 'FORBIDDEN'],
      ['EROFS', 'FORBIDDEN'],
      ['EIO', 'IO'],
      ['EWHATEVER', 'IO'],
      ['EMFILE', 'TRANSIENT'],
      ['ENAMETOOLONG', 'UNSUPPORTED'],
    ];
    for (const [errno, code] of table) {
      const error = fsError(osError(errno), 'write', '/docs/a b.txt');
      expect(error, errno).toBeInstanceOf(NetfsError);
      expect(error.code, errno).toBe(code);
      expect(error.message, errno).toContain('write "/docs/a b.txt"');
      expect(error.message, errno).toContain(errno);
    }
    expect(fsError(osError('ENOSPC'), 'write', '/a').message).toMatch(/no space left/);
  });

  it('passes NetfsErrors through and turns foreign errors into IO', () => {
    const own = new NetfsError('PRECONDITION_FAILED', 'x');
    expect(fsError(own, 'write', '/a')).toBe(own);
    expect(fsError('boom', 'read', '/a')).toMatchObject({ code: 'IO', message: 'read "/a": boom' });
    expect(fsError(Object.assign(new Error('gone'), { name: 'AbortError' }), 'read', '/a').code).toBe('CANCELLED');
    expect(errnoOf({ code: 42 })).toBeUndefined();
    expect(errnoOf(null)).toBeUndefined();
  });

  it('builds CANCELLED and explicit errors, with transferred bytes when given', () => {
    expect(cancelled('read', '/a')).toMatchObject({ code: 'CANCELLED', message: 'read "/a": cancelled' });
    expect(pathError('IO', 'read', '/a', 'bad', 7)).toMatchObject({ code: 'IO', transferred: 7 });
    const controller = new AbortController();
    expect(() => throwIfAborted(controller.signal, 'list', '/')).not.toThrow();
    controller.abort();
    expect(() => throwIfAborted(controller.signal, 'list', '/')).toThrow(expect.objectContaining({ code: 'CANCELLED' }));
  });
});

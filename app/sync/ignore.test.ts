import fc from 'fast-check';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { IgnoreRules, isClientPath, MAX_IGNORE_FILE_BYTES } from './ignore.js';

describe('ignore patterns (issue 5 item 8)', () => {
  it('built-in temp patterns are ignored everywhere, ordinary names are not', () => {
    const r = IgnoreRules.fromText('');
    for (const p of ['/a.swp', '/d/notes.txt~', '/d/.~lock.report.odt#', '/d/~$report.docx', '/.DS_Store', '/x/Thumbs.db', '/big.iso.part', '/dl/file.zip.crdownload', '/d/.#main.c', '/d/4913']) {
      expect(r.isIgnored(p, 'file'), p).toBe(true);
    }
    for (const p of ['/a.txt', '/d/report.docx', '/d/lock.odt', '/partial', '/49130', '/d/.config']) expect(r.isIgnored(p, 'file'), p).toBe(false);
  });

  it("the client's own .netfs* names are ignored at the top level only, whatever the ignore file says", () => {
    const r = IgnoreRules.fromText('!.netfs*\n!/.netfs-ignore');
    expect(r.isIgnored('/.netfs-ignore', 'file')).toBe(true);
    expect(r.isIgnored('/.netfs', 'folder')).toBe(true);
    expect(r.isIgnored('/.netfs-root', 'file')).toBe(true);
    expect(r.isIgnored('/sub/.netfs-ignore', 'file')).toBe(false);
    expect(r.isIgnored('/.netfsx/inner', 'file')).toBe(false);
    expect(isClientPath('/.netfs-marker')).toBe(true);
    expect(isClientPath('/a/.netfs-marker')).toBe(false);
  });

  it('follows gitignore syntax: anchors, folder-only patterns, globs, negation, comments, parents', () => {
    const r = IgnoreRules.fromText(['# build output', 'build/', '/top.log', '*.o', '!keep.o', 'docs/**/*.tmp', '\\#hash', ''].join('\n'));
    expect(r.isIgnored('/build', 'folder')).toBe(true);
    expect(r.isIgnored('/build', 'file')).toBe(false); // 'build/' matches folders only
    expect(r.isIgnored('/src/build', 'folder')).toBe(true);
    expect(r.isIgnored('/build/deep/x.c', 'file')).toBe(true); // below an ignored folder
    expect(r.isIgnored('/top.log', 'file')).toBe(true);
    expect(r.isIgnored('/a/top.log', 'file')).toBe(false);
    expect(r.isIgnored('/a/b.o', 'file')).toBe(true);
    expect(r.isIgnored('/a/keep.o', 'file')).toBe(false);
    expect(r.isIgnored('/docs/a/b/c.tmp', 'file')).toBe(true);
    expect(r.isIgnored('/other/c.tmp', 'file')).toBe(false);
    expect(r.isIgnored('/#hash', 'file')).toBe(true);
    expect(r.isIgnored('/# build output', 'file')).toBe(false);
  });

  it('is case-sensitive and never ignores the root', () => {
    const r = IgnoreRules.fromText('Secret.txt');
    expect(r.isIgnored('/Secret.txt', 'file')).toBe(true);
    expect(r.isIgnored('/secret.txt', 'file')).toBe(false);
    expect(r.isIgnored('/', 'folder')).toBe(false);
  });

  it('a `!` line can re-include a built-in pattern', () => {
    expect(IgnoreRules.fromText('!keep.part').isIgnored('/keep.part', 'file')).toBe(false);
    expect(IgnoreRules.fromText('!keep.part').isIgnored('/other.part', 'file')).toBe(true);
  });

  it('the predicate can be passed around unbound', () => {
    const { predicate } = IgnoreRules.fromText('*.bak');
    expect(['/a.bak', '/a.txt'].filter((p) => predicate(p, 'file'))).toEqual(['/a.bak']);
  });
});

describe('loading .netfs-ignore from the sync root', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await makeTempDir('netfs-ignore-');
  });
  afterEach(async () => {
    await tmp.remove();
  });

  it('reads the file (CRLF line ends too), or uses the built-ins alone when there is none', async () => {
    const none = await IgnoreRules.load(tmp.path);
    expect(none.isIgnored('/x.swp', 'file')).toBe(true);
    expect(none.isIgnored('/x.log', 'file')).toBe(false);
    await writeFile(join(tmp.path, '.netfs-ignore'), '*.log\r\ncache/\r\n');
    const r = await IgnoreRules.load(tmp.path);
    expect(r.isIgnored('/x.log', 'file')).toBe(true);
    expect(r.isIgnored('/a/cache', 'folder')).toBe(true);
    expect(r.userPatterns).toContain('cache/');
  });

  it('a folder named .netfs-ignore is no ignore file; an oversized file is refused with TOO_LARGE', async () => {
    await mkdir(join(tmp.path, '.netfs-ignore'));
    expect((await IgnoreRules.load(tmp.path)).userPatterns).toEqual(['']);
    const other = await makeTempDir('netfs-ignore-big-');
    await writeFile(join(other.path, '.netfs-ignore'), 'x'.repeat(MAX_IGNORE_FILE_BYTES + 1));
    await expect(IgnoreRules.load(other.path)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await other.remove();
  });
});

describe('built-ins alone: names matched one by one', () => {
  it('gives the same answer as the whole-path gitignore match for every path (property, 2,000 runs)', () => {
    const fast = IgnoreRules.fromText('# only a comment\n\n');
    // A rule that matches none of the generated names sends every path through the matcher.
    const whole = IgnoreRules.fromText('zz-no-such-name-zz');
    const name = fc.oneof(
      fc.constantFrom('a', 'b.txt', 'x.swp', 'notes~', '.~lock.r.odt#', '~$w.docx', '.DS_Store', 'Thumbs.db', 'f.part', 'g.crdownload', '.#m.c', '4913', '49130', '.netfs-partial-1', '.netfs-upload-2', '.netfs', 'swp', '.hidden'),
      // '.' and '..' are never names (remote paths refuse them).
      fc.stringMatching(/^[a-z.~$#]{1,6}$/).filter((n) => n !== '.' && n !== '..'),
    );
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 5 }), fc.constantFrom('file' as const, 'folder' as const), (names, kind) => {
        const path = `/${names.join('/')}`;
        expect(fast.isIgnored(path, kind), path).toBe(whole.isIgnored(path, kind));
      }),
      { numRuns: 2000 },
    );
  });
});

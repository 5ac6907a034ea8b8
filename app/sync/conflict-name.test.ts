import { describe, it, expect, afterAll } from 'vitest';
import { conflictCopyName, conflictCopyPath, copyStamp, restoredCopyName, splitExtension, trimToBytes } from './conflict-name.js';

const utf8 = new TextEncoder();
const bytes = (s: string): number => utf8.encode(s).length;
// 2025-03-07 14:25:01 in the local time zone of the test process.
const when = new Date(2025, 2, 7, 14, 25, 1);
const tag = '(conflicted copy 2025-03-07 142501)';

describe('conflict copy names (issue 5 item 5)', () => {
  it('puts the tag before the last extension only', () => {
    expect(conflictCopyName('report.pdf', when)).toBe(`report ${tag}.pdf`);
    expect(conflictCopyName('a.tar.gz', when)).toBe(`a.tar ${tag}.gz`);
  });

  it('gives dotfiles and names without an extension the tag at the end', () => {
    expect(conflictCopyName('.bashrc', when)).toBe(`.bashrc ${tag}`);
    expect(conflictCopyName('Makefile', when)).toBe(`Makefile ${tag}`);
    expect(conflictCopyName('trailing.', when)).toBe(`trailing. ${tag}`);
    expect(conflictCopyName('.config.json', when)).toBe(`.config ${tag}.json`);
  });

  it('numbers the copy " 2", " 3" when the name is taken', () => {
    const taken = new Set([`report ${tag}.pdf`, `report ${tag} 2.pdf`]);
    expect(conflictCopyName('report.pdf', when, (n) => taken.has(n))).toBe(`report ${tag} 3.pdf`);
    expect(conflictCopyName('report.pdf', when, (n) => n === `report ${tag}.pdf`)).toBe(`report ${tag} 2.pdf`);
  });

  it('gives up with CONFLICT when every candidate is taken', () => {
    expect(() => conflictCopyName('x.txt', when, () => true)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
  });

  it('keeps within 255 UTF-8 bytes, trimming the stem on a code-point boundary', () => {
    const long = '😀'.repeat(60) + '.txt'; // 244 bytes
    const out = conflictCopyName(long, when);
    expect(bytes(out)).toBeLessThanOrEqual(255);
    expect(out.endsWith(`${tag}.txt`)).toBe(true);
    expect(out.startsWith('😀')).toBe(true);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no half of a surrogate pair
    const stem = out.slice(0, out.indexOf(' ('));
    expect([...stem].every((c) => c === '😀')).toBe(true);
    const numbered = conflictCopyName(long, when, (n) => n === out);
    expect(bytes(numbered)).toBeLessThanOrEqual(255);
    expect(numbered.endsWith(`${tag.slice(0, -1)}) 2.txt`)).toBe(true);
  });

  it('treats an extension too long to keep as part of the stem', () => {
    const name = 'a.' + 'e'.repeat(250);
    const out = conflictCopyName(name, when);
    expect(bytes(out)).toBeLessThanOrEqual(255);
    expect(out.endsWith(tag)).toBe(true);
  });

  it('works on remote paths, checking collisions by path', () => {
    expect(conflictCopyPath('/docs/a.txt', when)).toBe(`/docs/a ${tag}.txt`);
    expect(conflictCopyPath('/a.txt', when, (p) => p === `/a ${tag}.txt`)).toBe(`/a ${tag} 2.txt`);
  });

  it('names restored trash entries the same way with another label', () => {
    expect(restoredCopyName('a.txt', when)).toBe('a (restored copy 2025-03-07 142501).txt');
  });

  it('splits and trims as documented', () => {
    expect(splitExtension('a.b.c')).toEqual({ stem: 'a.b', ext: '.c' });
    expect(splitExtension('.x')).toEqual({ stem: '.x', ext: '' });
    expect(trimToBytes('aé😀', 3)).toBe('aé');
    expect(trimToBytes('aé😀', 6)).toBe('aé');
    expect(trimToBytes('aé😀', 7)).toBe('aé😀');
  });
});

describe('conflict copy stamps use local time', () => {
  const saved = process.env.TZ;
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  it('formats the same instant differently in two time zones', () => {
    const instant = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    process.env.TZ = 'UTC';
    expect(copyStamp(instant)).toBe('2024-01-02 030405');
    process.env.TZ = 'Asia/Kolkata'; // UTC+05:30
    expect(copyStamp(instant)).toBe('2024-01-02 083405');
    process.env.TZ = 'America/New_York'; // UTC-05:00 in January: the day before
    expect(copyStamp(instant)).toBe('2024-01-01 220405');
  });
});

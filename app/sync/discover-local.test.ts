// Local discovery (discover-local.ts) over real folders in a temp dir: odd names (B1), symlinks
// (M2), bad names, ignored entries, the client's .netfs* names, a root that is missing (F17),
// entries vanishing during the scan, and an unreadable folder made real by strace fault
// injection (we run as root, where chmod 000 does not stop anything).
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../testing/temp-dir.js';
import { isClientName, scanLocal, type LocalScan } from './discover-local.js';
import type { ScanChildResult } from './discover-testing-child.js';

let temp: TempDir;
let n = 0;

beforeAll(async () => {
  temp = await makeTempDir('netfs-scan-');
});
afterAll(async () => {
  await temp?.remove();
});

/** A fresh root with `files` (relative paths, content = the path) and `folders`. */
async function root(files: string[], folders: string[] = []): Promise<string> {
  const dir = join(temp.path, `r${n++}`);
  await mkdir(dir);
  for (const f of folders) await mkdir(join(dir, f), { recursive: true });
  for (const f of files) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), f);
  }
  return dir;
}

const paths = (s: LocalScan): string[] => [...s.tree.keys()].sort();

/** strace can start (and trace) a child here. */
const STRACE_OK = ((): boolean => {
  try {
    execFileSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

describe('scanLocal', () => {
  it('B1: odd names (spaces, #, %20, NFC and NFD, emoji) are kept byte for byte, in remote form', async () => {
    const names = ['a b.txt', 'hash#tag', 'literal%20.txt', 'caf\u00e9', 'cafe\u0301', '\u{1F600} emoji', '100%', '[x]'];
    const dir = await root([...names.map((x) => `docs/${x}`), 'top.txt'], ['empty/inner']);
    const s = await scanLocal(dir);
    expect(s.rootMissing).toBe(false);
    expect(paths(s)).toEqual(['/docs', ...names.map((x) => `/docs/${x}`), '/empty', '/empty/inner', '/top.txt'].sort());
    expect(s.tree.has('/docs/caf\u00e9') && s.tree.has('/docs/cafe\u0301')).toBe(true);
    expect(s.problems).toEqual([]);
    expect(s.blindPaths).toEqual([]);
  });

  it('gives each entry its kind, size, mtime (fractional ms kept) and inode', async () => {
    const dir = await root(['f.bin'], ['sub']);
    await writeFile(join(dir, 'f.bin'), Buffer.alloc(12345, 7));
    const when = new Date(1_700_000_000_123.456);
    await utimes(join(dir, 'f.bin'), when, when);
    const s = await scanLocal(dir);
    const disk = await stat(join(dir, 'f.bin'));
    expect(s.tree.get('/f.bin')).toEqual({ path: '/f.bin', kind: 'file', size: 12345, mtimeMs: disk.mtimeMs, ino: disk.ino });
    expect(s.tree.get('/sub')).toMatchObject({ kind: 'folder', size: 0, ino: (await stat(join(dir, 'sub'))).ino });
  });

  it('M2: symlinks (to outside, to inside, dangling) are never followed nor synced: reported and blind', async () => {
    const outside = await root(['secret.txt']);
    const dir = await root(['a.txt', 'sub/b.txt']);
    await symlink(outside, join(dir, 'to-outside'));
    await symlink(join(dir, 'sub'), join(dir, 'sub', 'loop'));
    await symlink('/nonexistent/target', join(dir, 'dangling'));
    const s = await scanLocal(dir);
    expect(paths(s)).toEqual(['/a.txt', '/sub', '/sub/b.txt']);
    expect(s.problems.map((p) => `${p.kind} ${p.path}`).sort()).toEqual(['SYMLINK /dangling', 'SYMLINK /sub/loop', 'SYMLINK /to-outside']);
    expect([...s.blindPaths].sort()).toEqual(['/dangling', '/sub/loop', '/to-outside']);
  });

  it('names no server can store (control characters, "\\\\", not UTF-8) are reported and left out', async () => {
    // (Over 255 bytes cannot exist here: Linux refuses such a name with ENAMETOOLONG.)
    const dir = await root(['ok.txt']);
    await writeFile(join(dir, 'tab\there'), 'x');
    await writeFile(join(dir, 'back\\slash'), 'x');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'new\nline'), 'x');
    await writeFile(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9])]), 'x'); // "latin\xe9"
    const s = await scanLocal(dir);
    expect(paths(s)).toEqual(['/ok.txt', '/sub']);
    expect(s.problems.map((p) => `${p.kind} ${p.path}`).sort()).toEqual(
      ['BAD_NAME /back\\slash', 'BAD_NAME /sub/new\nline', 'BAD_NAME /latin%E9', 'BAD_NAME /tab\there'].sort(),
    );
    // A name that is not UTF-8 has no remote path to be blind to; the others are blind.
    expect([...s.blindPaths].sort()).toEqual(['/back\\slash', '/sub/new\nline', '/tab\there'].sort());
  });

  it('FIFOs are neither files nor folders: reported, blind, never opened', async () => {
    const dir = await root(['a.txt']);
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const s = await scanLocal(dir);
    expect(paths(s)).toEqual(['/a.txt']);
    expect(s.problems).toMatchObject([{ kind: 'UNSUPPORTED_KIND', path: '/pipe' }]);
    expect(s.blindPaths).toEqual(['/pipe']);
  });

  it('skips the top-level .netfs* names only, and what the ignore predicate says (an ignored folder is not entered)', async () => {
    const dir = await root(['.netfs-ignore', '.netfs/state.db', '.netfsx', 'sub/.netfs-ignore', 'build/out.o', 'src/a.c', 'src/a.o', 'keep.o/inner.txt']);
    const asked: string[] = [];
    const s = await scanLocal(dir, {
      ignore: (path, kind) => {
        asked.push(`${kind} ${path}`);
        return (kind === 'folder' && path === '/build') || (kind === 'file' && path.endsWith('.o'));
      },
    });
    expect(paths(s)).toEqual(['/keep.o', '/keep.o/inner.txt', '/src', '/src/a.c', '/sub', '/sub/.netfs-ignore']);
    expect(asked).not.toContain('file /build/out.o'); // never entered
    expect(asked.filter((a) => a.includes('.netfs'))).toEqual(['file /sub/.netfs-ignore']); // top-level ones never reach it
    expect(isClientName('/.netfs-ignore')).toBe(true);
    expect(isClientName('/.netfs')).toBe(true);
    expect(isClientName('/sub/.netfs-ignore')).toBe(false);
    expect(isClientName('/netfs')).toBe(false);
  });

  it('F17: a missing root, or a root that is a file, is rootMissing with an empty tree (never "everything deleted")', async () => {
    const gone = await scanLocal(join(temp.path, 'no-such-root'));
    expect(gone).toEqual({ tree: new Map(), blindPaths: [], problems: [], rootMissing: true });
    const file = join(temp.path, 'a-file');
    await writeFile(file, 'x');
    expect((await scanLocal(file)).rootMissing).toBe(true);
    expect((await scanLocal(join(file, 'below'))).rootMissing).toBe(true);
    // An empty root is not missing: the caller tells "emptied" apart with its journal.
    expect(await scanLocal(await root([]))).toMatchObject({ rootMissing: false, tree: new Map() });
  });

  it('a root given as a symlink is followed (the user chose it); nothing below is', async () => {
    const real = await root(['a.txt']);
    const link = join(temp.path, `link-${n++}`);
    await symlink(real, link);
    expect(paths(await scanLocal(link))).toEqual(['/a.txt']);
  });

  it('a file vanishing between readdir and lstat is tolerated: VANISHED, blind for this pass', async () => {
    const dir = await root(['a.txt', 'b.txt', 'c.txt']);
    let victim: string | null = null;
    const s = await scanLocal(dir, {
      ignore: (path) => {
        if (victim === null) {
          // Called per name after readdir, before any lstat: remove another name of the same listing.
          victim = path === '/a.txt' ? '/b.txt' : '/a.txt';
          execFileSync('rm', [join(dir, victim)]);
        }
        return false;
      },
    });
    expect(victim).not.toBeNull();
    expect(s.tree.has(victim!)).toBe(false);
    expect(s.tree.size).toBe(2);
    expect(s.problems).toMatchObject([{ kind: 'VANISHED', path: victim }]);
    expect(s.blindPaths).toEqual([victim]);
  });

  it('a folder vanishing before it is read is tolerated: dropped, VANISHED, blind; the rest is scanned', async () => {
    const dir = await root(['x/1.txt', 'y/2.txt']);
    let victim: string | null = null;
    const s = await scanLocal(dir, {
      concurrency: 1,
      ignore: (path) => {
        // The first name inside x or y: the other folder was listed (and lstat'ed) but not read yet.
        if (victim === null && (path.startsWith('/x/') || path.startsWith('/y/'))) {
          victim = path.startsWith('/x/') ? '/y' : '/x';
          execFileSync('rm', ['-r', join(dir, victim)]);
        }
        return false;
      },
    });
    expect(victim).not.toBeNull();
    const kept = victim === '/x' ? '/y' : '/x';
    expect(paths(s)).toEqual([kept, `${kept}/${kept === '/x' ? '1' : '2'}.txt`]);
    expect(s.problems).toMatchObject([{ kind: 'VANISHED', path: victim }]);
    expect(s.blindPaths).toEqual([victim]);
  });

  it.runIf(STRACE_OK)('an unreadable folder (openat fails with EACCES, injected by strace) is UNREADABLE and blind; the rest is scanned', async () => {
    const dir = await root(['ok/a.txt', 'closed/secret.txt', 'closed/deeper/b.txt', 'top.txt']);
    const here = fileURLToPath(new URL('.', import.meta.url));
    const log = join(temp.path, `strace-${n++}.log`);
    const child = spawn(
      'strace',
      ['-f', '-qq', '-o', log, '-P', join(dir, 'closed'), '-e', 'trace=openat', '-e', 'inject=openat:error=EACCES',
        process.execPath, '--import', join(here, '..', 'testing', 'ts-loader.mjs'), join(here, 'discover-testing-child.ts'), dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, err).toBe(0);
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '') as ScanChildResult;
    expect(result.paths).toEqual(['/closed', '/ok', '/ok/a.txt', '/top.txt']);
    expect(result.problems).toEqual([{ kind: 'UNREADABLE', path: '/closed', message: 'the folder cannot be read (EACCES)' }]);
    expect(result.blindPaths).toEqual(['/closed']);
    expect(await readFile(log, 'utf8')).toMatch(/openat\(.*closed.*EACCES \(Permission denied\) \(INJECTED\)/);
  });

  it('scans 1,000 folders deep without recursion', async () => {
    const segments = Array.from({ length: 1000 }, () => 'd');
    const dir = await root([]);
    await mkdir(join(dir, ...segments), { recursive: true });
    await writeFile(join(dir, ...segments, 'bottom.txt'), 'x');
    const s = await scanLocal(dir);
    expect(s.tree.size).toBe(1001);
    expect(s.tree.get(`/${segments.join('/')}/bottom.txt`)?.kind).toBe('file');
  });

  it('refuses a bad concurrency and stops when cancelled', async () => {
    const dir = await root(['a/b.txt']);
    await expect(scanLocal(dir, { concurrency: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const c = new AbortController();
    c.abort();
    await expect(scanLocal(dir, { signal: c.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

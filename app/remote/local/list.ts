/**
 * stat and list (depth 1) of the local backend.
 *
 *   readdir(folder, {encoding: 'buffer'})            raw names, byte for byte
 *      |  not UTF-8 (fatal decoder, BOM kept) ------> problem BAD_NAME
 *      |  .netfs-partial-* / .netfs-probe-* --------> hidden (the backend's own temp files)
 *      |  nameProblem(name) (`\`, > 255 bytes, ...) -> problem BAD_NAME
 *      v
 *   lstat each child, 64 at a time (never following a link)
 *      |  gone meanwhile --------------------------> dropped silently (it no longer exists)
 *      |  symbolic link ---------------------------> problem UNSUPPORTED_KIND (never followed:
 *      |                                              it may point anywhere, inside or out)
 *      |  FIFO, socket, device ---------------------> problem UNSUPPORTED_KIND
 *      |  lstat error ------------------------------> problem ENTRY_STATUS
 *      v
 *   entries (files and folders), sorted by name; never the folder itself
 */
import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ListProblem, ListResult, RemoteEntry } from '../../api/remote.js';
import { joinRemotePath, nameProblem } from '../path.js';
import type { LocalContext } from './context.js';
import { checkAncestors, lstatTarget, refuseUnsupported, resolveTarget, unsupportedKind } from './disk-path.js';
import { fsError, pathError, throwIfAborted } from './errors.js';
import { toEntry } from './entry.js';
import { isBackendTempName } from './names.js';

const LSTAT_BATCH = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export async function statEntry(ctx: LocalContext, remotePath: string, signal?: AbortSignal): Promise<RemoteEntry> {
  const action = 'stat';
  const target = resolveTarget(ctx.root, remotePath);
  throwIfAborted(signal, action, remotePath);
  await checkAncestors(ctx.root, target, action, 'NOT_FOUND');
  const stats = await lstatTarget(ctx.root, target, action);
  if (stats === null) throw pathError('NOT_FOUND', action, remotePath, 'no such file or folder');
  refuseUnsupported(stats, action, remotePath);
  return toEntry(remotePath, target.name, stats);
}

export async function listFolder(ctx: LocalContext, remotePath: string, signal?: AbortSignal): Promise<ListResult> {
  const action = 'list';
  const target = resolveTarget(ctx.root, remotePath);
  throwIfAborted(signal, action, remotePath);
  await checkAncestors(ctx.root, target, action, 'NOT_FOUND');
  const stats = await lstatTarget(ctx.root, target, action);
  if (stats === null) throw pathError('NOT_FOUND', action, remotePath, 'no such folder');
  refuseUnsupported(stats, action, remotePath);
  if (!stats.isDirectory()) throw pathError('CONFLICT', action, remotePath, 'not a folder');
  const folder = toEntry(remotePath, target.name, stats);

  let raw: Buffer[];
  try {
    raw = await fs.readdir(target.diskPath, { encoding: 'buffer' });
  } catch (error) {
    throw fsError(error, action, remotePath);
  }

  const problems: ListProblem[] = [];
  const names: string[] = [];
  for (const bytes of raw) {
    const name = decodeName(bytes);
    if (name === null) {
      problems.push({ kind: 'BAD_NAME', href: escapeBytes(bytes), message: 'name is not valid UTF-8; it cannot be represented as a remote name' });
      continue;
    }
    if (isBackendTempName(name)) continue;
    const problem = nameProblem(name);
    if (problem !== null) {
      problems.push({ kind: 'BAD_NAME', href: name, message: problem });
      continue;
    }
    names.push(name);
  }

  const entries: RemoteEntry[] = [];
  for (let start = 0; start < names.length; start += LSTAT_BATCH) {
    throwIfAborted(signal, action, remotePath);
    const batch = names.slice(start, start + LSTAT_BATCH);
    const results = await Promise.all(batch.map((name) => inspectChild(target.diskPath, name, joinRemotePath([...target.segments, name]))));
    for (const [i, result] of results.entries()) {
      const name = batch[i] as string;
      if (result.kind === 'gone') continue;
      if (result.kind === 'problem') {
        problems.push(result.problem);
        continue;
      }
      entries.push(toEntry(joinRemotePath([...target.segments, name]), name, result.stats));
    }
  }
  entries.sort((a, b) => compareNames(a.name, b.name));
  problems.sort((a, b) => compareNames(a.href, b.href));
  return { folder, entries, problems };
}

type Child = { kind: 'entry'; stats: BigIntStats } | { kind: 'gone' } | { kind: 'problem'; problem: ListProblem };

async function inspectChild(folderDisk: string, name: string, remotePath: string): Promise<Child> {
  const diskPath = path.join(folderDisk, name);
  let stats: BigIntStats;
  try {
    stats = await fs.lstat(diskPath, { bigint: true });
  } catch (error) {
    const mapped = fsError(error, 'list', remotePath);
    if (mapped.code === 'NOT_FOUND') return { kind: 'gone' };
    return { kind: 'problem', problem: { kind: 'ENTRY_STATUS', href: name, message: mapped.message } };
  }
  if (stats.isSymbolicLink()) {
    const to = await fs.readlink(diskPath).catch(() => null);
    const where = to === null ? '' : ` to ${JSON.stringify(to)}`;
    return {
      kind: 'problem',
      problem: { kind: 'UNSUPPORTED_KIND', href: name, message: `symbolic link${where}: not followed (it could lead outside the remote's root)` },
    };
  }
  const kind = unsupportedKind(stats);
  if (kind !== null) {
    return { kind: 'problem', problem: { kind: 'UNSUPPORTED_KIND', href: name, message: `${kind}: neither a file nor a folder` } };
  }
  return { kind: 'entry', stats };
}

/** The name as a string when its bytes are well-formed UTF-8, else null. */
export function decodeName(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Raw name bytes for a log line: printable ASCII as is, everything else (and '%') as %XX. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

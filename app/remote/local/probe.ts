/**
 * The capabilities probe of the local backend: every answer is found by trying it, in a
 * throw-away folder under the root that is removed afterwards.
 *
 *   <root>/.netfs-probe-<random>/            (hidden from listings; rm -r in all cases)
 *      probe.bin     write (absent) ........ read 100 bytes at 4000: exactly them?     -> ranges
 *                    stat twice: same ETag as the write returned?                       -> etags
 *                    write (absent) again: refused?                                     -> ifNoneMatchOnPut
 *                    write (match, wrong ETag) refused, (match, right ETag) accepted?   -> ifMatchOnPut
 *                    delete (match, stale ETag) refused, (match, right ETag) accepted?  -> ifMatchOnDelete
 *      sub/deep.bin  written: did the probe folder's own ETag change?                   -> folderEtagsPropagate
 *
 * A root that is missing fails with NOT_FOUND. A root that cannot be written (read-only mount,
 * no permission) or a probe step that fails answers false for what could not be checked and
 * says why in `notes`. depthInfinity is false (list is depth 1 only) and davClasses is [].
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { unprobedCapabilities } from '../../api/capabilities.js';
import type { Capabilities } from '../../api/remote.js';
import type { Precondition, WriteResult } from '../backend.js';
import type { LocalContext } from './context.js';
import { checkRoot } from './disk-path.js';
import { fsError, throwIfAborted } from './errors.js';
import { deleteEntry } from './delete.js';
import { statEntry } from './list.js';
import { makeFolder } from './mkdir.js';
import { PROBE_PREFIX, tempName } from './names.js';
import { PathLocks } from './path-locks.js';
import { readRange } from './read.js';
import { writeFile } from './write.js';

const PROBE_SIZE = 3 * 4096 + 123;

export async function probeCapabilities(root: string, signal?: AbortSignal): Promise<Capabilities> {
  const action = 'capabilities';
  const notes: string[] = [];
  const caps: Capabilities = unprobedCapabilities(notes);
  throwIfAborted(signal, action, '/');
  await checkRoot(root, '/', action);
  // Every stat of the root gives an inode and a ns mtime: the stuff of strong ETags.
  caps.etags = 'strong';

  const probeDir = path.join(root, tempName(PROBE_PREFIX));
  try {
    await fs.mkdir(probeDir);
  } catch (error) {
    const mapped = fsError(error, action, '/');
    notes.push(`could not create a probe folder in the root (${mapped.message}); ranges and preconditions were not checked`);
    return caps;
  }
  const probe: LocalContext = { root: probeDir, locks: new PathLocks() };
  try {
    await runChecks(probe, caps, signal);
  } catch (error) {
    const mapped = fsError(error, action, '/');
    if (mapped.code === 'CANCELLED') throw mapped;
    notes.push(`the probe stopped early: ${mapped.message}; what it had not checked is reported as false`);
  } finally {
    await fs.rm(probeDir, { recursive: true, force: true }).catch((error: unknown) => {
      notes.push(`could not remove the probe folder ${JSON.stringify(path.basename(probeDir))}: ${fsError(error, action, '/').message}`);
    });
  }
  return caps;
}

async function runChecks(probe: LocalContext, caps: Capabilities, signal: AbortSignal | undefined): Promise<void> {
  const data = pattern(PROBE_SIZE);
  const file = '/probe.bin';
  const put = (precondition: Precondition, bytes = data): Promise<WriteResult> =>
    writeFile(probe, file, { length: bytes.length, source: once(bytes), precondition, signal });

  const first = await put({ kind: 'absent' });

  const buffer = new Uint8Array(100);
  const range = await readRange(probe, file, { offset: 4000, length: 100, buffers: [buffer], signal });
  caps.ranges = range.transferred === 100 && sameBytes(buffer, data.subarray(4000, 4100));
  if (!caps.ranges) caps.notes.push('a ranged read did not return exactly the bytes written');

  const [a, b] = [await statEntry(probe, file, signal), await statEntry(probe, file, signal)];
  if (a.etag !== first.etag || b.etag !== first.etag) {
    caps.etags = 'weak';
    caps.notes.push('the ETag of an unchanged file changed between two stats (unstable inode numbers?); treat ETags as weak');
  }

  caps.ifNoneMatchOnPut = await refused(() => put({ kind: 'absent' }));
  const wrongRefused = await refused(() => put({ kind: 'match', etag: '"0-0-0"' }));
  const second = await put({ kind: 'match', etag: first.etag }, pattern(PROBE_SIZE + 1));
  caps.ifMatchOnPut = wrongRefused && second.etag !== first.etag;

  const staleRefused = await refused(() => deleteEntry(probe, file, { precondition: { kind: 'match', etag: first.etag }, signal }));
  await deleteEntry(probe, file, { precondition: { kind: 'match', etag: second.etag }, signal });
  caps.ifMatchOnDelete = staleRefused && !(await exists(probe, file, signal));

  await makeFolder(probe, '/sub', signal);
  const before = await statEntry(probe, '/', signal);
  await writeFile(probe, '/sub/deep.bin', { length: 1, source: once(new Uint8Array([1])), precondition: { kind: 'absent' }, signal });
  const after = await statEntry(probe, '/', signal);
  caps.folderEtagsPropagate = before.etag !== after.etag;
}

/** True when `attempt` fails with PRECONDITION_FAILED; false when it succeeds; other errors propagate. */
async function refused(attempt: () => Promise<unknown>): Promise<boolean> {
  try {
    await attempt();
    return false;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'PRECONDITION_FAILED') return true;
    throw error;
  }
}

async function exists(probe: LocalContext, file: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await statEntry(probe, file, signal);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'NOT_FOUND') return false;
    throw error;
  }
}

function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

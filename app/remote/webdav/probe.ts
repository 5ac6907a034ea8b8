/**
 * capabilities(): what this server really does, found by trying it (never assumed), in a
 * folder `.netfs-probe-<random>` below the account's root that is removed afterwards.
 *
 *   OPTIONS /                    DAV: 1,2        -> davClasses
 *   MKCOL   probe/
 *   PUT     probe/f  If-None-Match: *            -> etags (strength of what PROPFIND then says)
 *   GET     probe/f  Range: bytes=2-5            -> ranges (206 with exactly those bytes)
 *   PUT     probe/f  If-None-Match: *  (exists)  -> ifNoneMatchOnPut (412 expected)
 *   PUT     probe/f  If-Match: "<never>"         -> ifMatchOnPut      (412 expected)
 *   DELETE  probe/f  If-Match: "<never>"         -> ifMatchOnDelete   (412 expected)
 *   PUT     probe/a/b/g twice, PROPFIND probe    -> folderEtagsPropagate (probe's ETag changed?)
 *   PROPFIND probe Depth: infinity               -> depthInfinity (207, or 403 as Apache)
 *   DELETE  probe/
 *
 * A step that cannot run leaves its answer false and says why in `notes`.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isNetfsError, NetfsError } from '../../api/errors.js';
import { unprobedCapabilities } from '../../api/capabilities.js';
import type { Capabilities } from '../../api/remote.js';
import type { WebdavBackend } from './backend.js';
import { header } from './http.js';
import { expectStatus } from './status.js';

const NEVER = '"netfs-probe-never-matches"';

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

function put(dav: WebdavBackend, path: string, text: string, precondition: Parameters<WebdavBackend['write']>[1]['precondition'], signal?: AbortSignal) {
  return dav.write(path, { length: Buffer.byteLength(text), source: bytes(text), precondition, ...(signal === undefined ? {} : { signal }) });
}

/** Runs `step`; true when it failed with PRECONDITION_FAILED, false when it was accepted. */
async function refusedWith412(step: () => Promise<unknown>): Promise<boolean> {
  try {
    await step();
    return false;
  } catch (e) {
    if (isNetfsError(e) && e.code === 'PRECONDITION_FAILED') return true;
    throw e;
  }
}

export async function probeCapabilities(dav: WebdavBackend, signal?: AbortSignal): Promise<Capabilities> {
  const caps: Capabilities = unprobedCapabilities();
  const note = (step: string, e: unknown): void => {
    caps.notes.push(`${step}: could not find out (${isNetfsError(e) ? `${e.code}: ${e.message}` : String(e)})`);
  };
  const sig = signal === undefined ? {} : { signal };

  try {
    const r = await dav.request('OPTIONS', dav.root, { ...sig, what: 'OPTIONS /', consumer: () => expectStatus([200, 204], 'OPTIONS /', 64 * 1024) });
    const dav_ = header(r.headers, 'dav') ?? '';
    caps.davClasses = dav_.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (caps.davClasses.length === 0) caps.notes.push('OPTIONS has no DAV header: this may not be a WebDAV server');
  } catch (e) {
    if (isNetfsError(e) && (e.code === 'AUTH' || e.code === 'UNREACHABLE' || e.code === 'INSECURE' || e.code === 'CANCELLED')) throw e;
    note('OPTIONS', e);
  }

  const dir = `/.netfs-probe-${randomBytes(6).toString('hex')}`;
  try {
    await dav.mkdir(dir, sig);
  } catch (e) {
    if (isNetfsError(e) && (e.code === 'AUTH' || e.code === 'UNREACHABLE' || e.code === 'CANCELLED')) throw e;
    note(`creating the probe folder ${dir}`, e);
    return caps;
  }
  try {
    const f = `${dir}/f`;
    await put(dav, f, 'netfs probe 0123456789', { kind: 'absent' }, signal);
    let st = await dav.stat(f, sig);
    if (st.etagStrength === 'weak') {
      // Apache marks a file's ETag weak while its mtime is within the last second: look again later.
      await sleep(1100, undefined, signal === undefined ? {} : { signal }).catch(() => {
        throw new NetfsError('CANCELLED', 'capabilities probe: cancelled');
      });
      const later = await dav.stat(f, sig);
      if (later.etagStrength === 'strong') caps.notes.push('ETags are weak for a second after each change, then strong');
      st = later;
    }
    caps.etags = st.etagStrength;
    if (st.etag === null) caps.notes.push('files have no ETag: changes are detected by size and date only');
    else if (st.etagStrength === 'weak') caps.notes.push('ETags are weak: they are never sent in If-Match; If-Unmodified-Since and a re-check stand in');

    try {
      const buf = new Uint8Array(4);
      const r = await dav.read(f, { offset: 2, length: 4, buffers: [buf], ...sig });
      caps.ranges = r.transferred === 4 && Buffer.from(buf).toString() === 'tfs ';
      if (!caps.ranges) caps.notes.push('a ranged GET did not return exactly the bytes asked for');
    } catch (e) {
      if (isNetfsError(e) && e.rangeIgnored) caps.notes.push('the server ignores Range: files are always read whole');
      else note('ranged GET', e);
    }

    try {
      caps.ifNoneMatchOnPut = await refusedWith412(() => put(dav, f, 'netfs probe: must not be stored', { kind: 'absent' }, signal));
      if (!caps.ifNoneMatchOnPut) caps.notes.push('a PUT with If-None-Match: * replaced an existing file');
    } catch (e) {
      note('If-None-Match on PUT', e);
    }
    try {
      caps.ifMatchOnPut = await refusedWith412(() => put(dav, f, 'netfs probe: must not be stored either', { kind: 'match', etag: NEVER }, signal));
      if (!caps.ifMatchOnPut) caps.notes.push('a PUT with a failing If-Match was accepted: uploads are re-checked before and after');
    } catch (e) {
      note('If-Match on PUT', e);
    }
    try {
      caps.ifMatchOnDelete = await refusedWith412(() => dav.delete(f, { precondition: { kind: 'match', etag: NEVER }, ...sig }));
      if (!caps.ifMatchOnDelete) caps.notes.push('a DELETE with a failing If-Match was accepted: deletes are re-checked first');
    } catch (e) {
      note('If-Match on DELETE', e);
    }

    try {
      await dav.mkdir(`${dir}/a`, sig);
      await dav.mkdir(`${dir}/a/b`, sig);
      await put(dav, `${dir}/a/b/g`, 'one', { kind: 'none' }, signal);
      const before = (await dav.stat(dir, sig)).etag;
      if (before === null) {
        caps.notes.push('folders have no ETag: every folder is listed on every pass');
      } else {
        await put(dav, `${dir}/a/b/g`, 'two, longer', { kind: 'none' }, signal);
        const after = (await dav.stat(dir, sig)).etag;
        caps.folderEtagsPropagate = after !== null && after !== before;
      }
    } catch (e) {
      note('folder ETag propagation', e);
    }

    try {
      const url = dav.url(dir, true);
      const r = await dav.request('PROPFIND', url, {
        headers: { depth: 'infinity', 'content-type': 'application/xml; charset=utf-8' },
        body: '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>',
        ...sig,
        deadlineMs: dav.timeouts.listingDeadlineMs,
        what: `PROPFIND ${dir} Depth: infinity`,
        consumer: () => expectStatus([207], 'PROPFIND Depth: infinity', dav.limits.maxListingBytes),
      });
      caps.depthInfinity = r.status === 207;
    } catch (e) {
      if (!(isNetfsError(e) && (e.status === 403 || e.status === 400 || e.status === 501))) note('PROPFIND Depth: infinity', e);
    }
  } catch (e) {
    if (isNetfsError(e) && (e.code === 'AUTH' || e.code === 'UNREACHABLE' || e.code === 'CANCELLED')) throw e;
    note('probe', e);
  } finally {
    try {
      await dav.delete(dir);
    } catch (e) {
      if (!(e instanceof NetfsError && e.code === 'NOT_FOUND')) caps.notes.push(`the probe folder ${dir} could not be removed: ${(e as Error).message}`);
    }
  }
  return caps;
}

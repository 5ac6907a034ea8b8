/**
 * Content hashes for the first-sync compare (both sides have a file and no journal row):
 * the local file read from disk, the server's through the engine (an on-demand read, so the
 * bytes land in the cache too).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { NetfsError } from '../api/errors.js';
import type { RemoteEntry } from '../api/remote.js';
import type { NetfsEngine } from '../netfs/engine.js';

export async function hashLocalFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, signal === undefined ? {} : { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function hashRemoteFile(engine: NetfsEngine, remote: RemoteEntry, signal?: AbortSignal): Promise<string> {
  if (remote.size === null) throw new NetfsError('PROTOCOL', `${remote.path}: the server did not say how big the file is`);
  const hash = createHash('sha256');
  let next = 0;
  const outcome = await engine.read(remote.path, {
    offset: 0,
    length: remote.size,
    size: remote.size,
    expect: { etag: remote.etag, size: remote.size, mtimeMs: remote.mtimeMs },
    consumer: {
      deliver(fpos, views) {
        if (fpos !== next) throw new NetfsError('PROTOCOL', `${remote.path}: bytes delivered out of order (${fpos}, expected ${next})`);
        for (const v of views) {
          hash.update(v);
          next += v.byteLength;
        }
      },
    },
    ...(signal === undefined ? {} : { signal }),
  });
  if (outcome.shortAt !== null || next !== remote.size) {
    throw new NetfsError('CHANGED_ON_SERVER', `${remote.path}: the server's file is ${outcome.shortAt ?? next} bytes, not ${remote.size}: it changed`);
  }
  return hash.digest('hex');
}

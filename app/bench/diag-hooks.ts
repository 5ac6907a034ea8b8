/**
 * Diagnostic hooks for ours-download.ts (never used by the timed rows): FileHandle methods
 * replaced process-wide, and a memory sampler.
 *
 *   noSync      sync/datasync become no-ops (our time with the fsync excluded)
 *   phases      writev/datasync/sync timed (time inside each, summed; the last sync separately)
 *   writeChunk  each writev split into pwritev calls of at most this many bytes, one after the
 *               other (what smaller writes would change, without touching the engine)
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export interface PhaseTimes {
  writev: { calls: number; s: number };
  datasync: { calls: number; s: number };
  sync: { calls: number; s: number };
  /** From the start of the last sync() (the final fsync) to its end. */
  finalSyncS: number;
}

export interface FileHandleHooks {
  noSync?: boolean;
  phases?: boolean;
  writeChunk?: number;
}

type Method = 'writev' | 'datasync' | 'sync';
type Writev = (buffers: readonly NodeJS.ArrayBufferView[], position?: number | null) => Promise<{ bytesWritten: number }>;

const round = (n: number, digits = 4): number => Number(n.toFixed(digits));

/** Splits views into groups of at most `max` bytes (views cut where needed). */
function pieces(views: readonly Uint8Array[], max: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let group: Uint8Array[] = [];
  let size = 0;
  for (const v of views) {
    for (let off = 0; off < v.length; ) {
      const n = Math.min(v.length - off, max - size);
      group.push(v.subarray(off, off + n));
      size += n;
      off += n;
      if (size === max) {
        out.push(group);
        group = [];
        size = 0;
      }
    }
  }
  if (group.length > 0) out.push(group);
  return out;
}

export async function installFileHandleHooks(hooks: FileHandleHooks): Promise<() => PhaseTimes> {
  const times: PhaseTimes = { writev: { calls: 0, s: 0 }, datasync: { calls: 0, s: 0 }, sync: { calls: 0, s: 0 }, finalSyncS: 0 };
  const report = (): PhaseTimes => ({
    writev: { calls: times.writev.calls, s: round(times.writev.s) },
    datasync: { calls: times.datasync.calls, s: round(times.datasync.s) },
    sync: { calls: times.sync.calls, s: round(times.sync.s) },
    finalSyncS: round(times.finalSyncS),
  });
  if (hooks.noSync !== true && hooks.phases !== true && hooks.writeChunk === undefined) return report;

  const probe = await open('/dev/null', 'r');
  const proto = Object.getPrototypeOf(probe) as Record<Method, (...args: unknown[]) => Promise<unknown>>;
  await probe.close();

  const max = hooks.writeChunk;
  if (max !== undefined) {
    const original = proto.writev as unknown as Writev;
    proto.writev = async function (this: FileHandle, ...args: unknown[]): Promise<unknown> {
      const [views, position] = args as [Uint8Array[], number];
      let done = 0;
      for (const group of pieces(views, max)) {
        const want = group.reduce((n, v) => n + v.length, 0);
        const { bytesWritten } = await original.call(this, group, position + done);
        done += bytesWritten;
        if (bytesWritten < want) break;
      }
      return { bytesWritten: done, buffers: views };
    };
  }

  const wrap = (name: Method, noop: boolean): void => {
    const original = proto[name];
    proto[name] = async function (this: FileHandle, ...args: unknown[]): Promise<unknown> {
      const t0 = performance.now();
      try {
        return noop ? undefined : await original.apply(this, args);
      } finally {
        const s = (performance.now() - t0) / 1000;
        times[name].calls++;
        times[name].s += s;
        if (name === 'sync') times.finalSyncS = s;
      }
    };
  };
  if (hooks.noSync === true || hooks.phases === true) {
    wrap('datasync', hooks.noSync === true);
    wrap('sync', hooks.noSync === true);
  }
  if (hooks.phases === true) wrap('writev', false);
  return report;
}

/** Samples process.memoryUsage() every 10 ms; stop() gives the largest of each figure, in MB. */
export function sampleMemory(): { stop(): Record<string, number> } {
  const peaks: Record<string, number> = {};
  const sample = (): void => {
    for (const [k, v] of Object.entries(process.memoryUsage())) peaks[k] = Math.max(peaks[k] ?? 0, v);
  };
  const timer = setInterval(sample, 10);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, round(v / 1e6, 1)]));
    },
  };
}

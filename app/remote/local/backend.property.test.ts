import fc from 'fast-check';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Precondition } from '../backend.js';
import { LocalBackend } from './backend.js';
import { chunked, makeTempRoot, pattern, sameBytes } from './test-kit.js';
import type { TempRoot } from './test-kit.js';

type Action =
  | { kind: 'write'; file: number; size: number; seed: number; chunk: number; conditional: boolean }
  | { kind: 'read'; file: number; offset: number; length: number; splits: number[] };

const FILES = ['/a.bin', '/b c.bin', '/caf\u00e9.bin'];

const writeAction = fc.record({
  kind: fc.constant('write' as const),
  file: fc.nat({ max: FILES.length - 1 }),
  size: fc.oneof(fc.nat({ max: 64 }), fc.nat({ max: 300_000 })),
  seed: fc.nat(),
  chunk: fc.integer({ min: 1, max: 100_000 }),
  conditional: fc.boolean(),
});

const readAction = fc.record({
  kind: fc.constant('read' as const),
  file: fc.nat({ max: FILES.length - 1 }),
  offset: fc.oneof(fc.nat({ max: 64 }), fc.nat({ max: 320_000 })),
  length: fc.oneof(fc.nat({ max: 64 }), fc.nat({ max: 320_000 })),
  splits: fc.array(fc.nat({ max: 1000 }), { maxLength: 4 }),
});

/** Buffers of the sizes in `splits`, then one more holding the rest of `length`. */
function buffersFor(length: number, splits: number[]): Uint8Array[] {
  const buffers: Uint8Array[] = [];
  let left = length;
  for (const size of splits) {
    const n = Math.min(size, left);
    buffers.push(new Uint8Array(n).fill(0xa5));
    left -= n;
  }
  buffers.push(new Uint8Array(left).fill(0xa5));
  return buffers;
}

describe('local backend properties', () => {
  let t: TempRoot;
  beforeAll(async () => {
    t = await makeTempRoot();
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('random write/read sequences at random offsets return exactly the bytes written (with eof, size, ETag)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(writeAction, readAction), { minLength: 1, maxLength: 12 }), async (actions: Action[]) => {
        const dir = `${t.root}/run-${run++}`;
        await fs.mkdir(dir);
        const backend = new LocalBackend(dir);
        const model = new Map<string, { bytes: Uint8Array; etag: string | null }>();
        try {
          for (const action of actions) {
            const file = FILES[action.file] as string;
            const current = model.get(file);
            if (action.kind === 'write') {
              const bytes = pattern(action.size, action.seed);
              const precondition: Precondition = !action.conditional
                ? { kind: 'none' }
                : current === undefined
                  ? { kind: 'absent' }
                  : { kind: 'match', etag: current.etag };
              const result = await backend.write(file, { length: bytes.length, source: chunked(bytes, action.chunk), precondition });
              expect(result.size).toBe(bytes.length);
              expect(result.etag).not.toBe(current?.etag);
              model.set(file, { bytes, etag: result.etag });
              continue;
            }
            const buffers = buffersFor(action.length, action.splits);
            if (current === undefined) {
              await expect(backend.read(file, { offset: action.offset, length: action.length, buffers })).rejects.toMatchObject({ code: 'NOT_FOUND' });
              continue;
            }
            const result = await backend.read(file, {
              offset: action.offset,
              length: action.length,
              buffers,
              expect: { etag: current.etag },
            });
            const size = current.bytes.length;
            const expected = current.bytes.subarray(Math.min(action.offset, size), Math.min(action.offset + action.length, size));
            expect(result.transferred).toBe(expected.length);
            expect(result.size).toBe(size);
            expect(result.etag).toBe(current.etag);
            expect(result.eof).toBe(action.offset + action.length >= size);
            const joined = Buffer.concat(buffers);
            expect(sameBytes(joined.subarray(0, expected.length), expected)).toBe(true);
            expect(joined.subarray(expected.length).every((b) => b === 0xa5)).toBe(true);
          }
        } finally {
          await backend.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

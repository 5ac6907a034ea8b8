import { describe, expect, it } from 'vitest';
import { drainSource } from './source.js';
import { chunked, pattern } from './test-kit.js';

interface Sink {
  written: number[];
  onChunk: (chunk: Uint8Array, position: number) => Promise<void>;
}

function sink(): Sink {
  const written: number[] = [];
  return {
    written,
    onChunk: async (chunk, position) => {
      for (const [i, byte] of chunk.entries()) written[position + i] = byte;
    },
  };
}

const base = { action: 'write', remotePath: '/a.bin' };

describe('write sources', () => {
  it('hands every chunk over with its position and reports progress', async () => {
    const data = pattern(1000);
    const s = sink();
    const progress: number[] = [];
    const received = await drainSource(chunked(data, 300), { ...base, length: 1000, onChunk: s.onChunk, onProgress: (n) => progress.push(n) });
    expect(received).toBe(1000);
    expect(Uint8Array.from(s.written)).toEqual(data);
    expect(progress).toEqual([300, 600, 900, 1000]);
  });

  it('B7: fails with TOO_LARGE on more bytes than announced, before writing them, and closes the source', async () => {
    let closed = false;
    async function* tooMuch(): AsyncGenerator<Uint8Array> {
      try {
        yield new Uint8Array(6);
        yield new Uint8Array(6);
        yield new Uint8Array(6);
      } finally {
        closed = true;
      }
    }
    const s = sink();
    await expect(drainSource(tooMuch(), { ...base, length: 10, onChunk: s.onChunk })).rejects.toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('/a.bin') });
    expect(s.written.length).toBe(6);
    await Promise.resolve();
    expect(closed).toBe(true);
  });

  it('B7: fails with IO "source ended early" on fewer bytes than announced', async () => {
    await expect(drainSource(chunked(pattern(10)), { ...base, length: 11, onChunk: sink().onChunk })).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/source ended early: 10 of 11/),
    });
  });

  it('is cancelled while waiting for a source that never yields', async () => {
    const controller = new AbortController();
    const stuck: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => undefined) }),
    };
    const pending = drainSource(stuck, { ...base, length: 1, signal: controller.signal, onChunk: sink().onChunk });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('turns a failing source into IO (a NetfsError keeps its code) and refuses non-bytes', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1);
      throw new Error('disk unplugged');
    }
    await expect(drainSource(failing(), { ...base, length: 2, onChunk: sink().onChunk })).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringContaining('the source failed: disk unplugged'),
    });
    async function* strings(): AsyncGenerator<Uint8Array> {
      yield 'abc' as unknown as Uint8Array;
    }
    await expect(drainSource(strings(), { ...base, length: 3, onChunk: sink().onChunk })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

// Pull-style reading from a socket for the replay server's request parser: "read up to this
// delimiter" and "read exactly N bytes", with backpressure (the socket is paused while more
// than highWaterMark bytes wait unread).
import type { Socket } from 'node:net';

export type ReadResult = Buffer | 'eof' | 'too-long';

export class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private paused = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly highWaterMark = 1024 * 1024,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      if (this.length > this.highWaterMark && !this.paused) {
        this.paused = true;
        socket.pause();
      }
      this.notify();
    });
    const end = (): void => {
      this.ended = true;
      this.notify();
    };
    socket.on('end', end);
    socket.on('close', end);
  }

  /** Bytes received and not read yet. */
  get buffered(): number {
    return this.length;
  }

  /** The bytes before `delimiter` (which is consumed too), or 'too-long' past maxBytes, or 'eof'. */
  async readUntil(delimiter: Buffer, maxBytes: number): Promise<ReadResult> {
    for (;;) {
      const all = this.flatten();
      const at = all.indexOf(delimiter);
      if (at >= 0 && at <= maxBytes) {
        this.consume(at + delimiter.length);
        return all.subarray(0, at);
      }
      if (all.length > maxBytes + delimiter.length) return 'too-long';
      if (this.ended) return 'eof';
      await this.more();
    }
  }

  /** Exactly n bytes, or 'eof' if the peer stopped sending first. */
  async readExactly(n: number): Promise<Buffer | 'eof'> {
    for (;;) {
      if (this.length >= n) {
        const all = this.flatten();
        this.consume(n);
        return all.subarray(0, n);
      }
      if (this.ended) return 'eof';
      await this.more();
    }
  }

  private flatten(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0] as Buffer;
  }

  private consume(n: number): void {
    const all = this.flatten().subarray(n);
    this.chunks = all.length > 0 ? [all] : [];
    this.length = all.length;
    if (this.paused && this.length <= this.highWaterMark) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private more(): Promise<void> {
    if (this.paused) {
      // The caller needs more than the high-water mark: let data in again.
      this.paused = false;
      this.socket.resume();
    }
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/**
 * A per-path mutex, so that inside one process the check and the commit of two changes to the
 * same remote path never interleave (two conditional writes cannot both win).
 *
 *   withLocks(['/b', '/a'], fn)   sorted: lock '/a', then '/b'  (a fixed order: no deadlock)
 *        |  waits for the previous holder of each key, runs fn, releases in reverse
 *
 * Keys are remote paths compared byte for byte; locks are exact-path (a change to '/a' does not
 * lock '/a/b'). Across processes nothing is locked: see README.md.
 */
export class PathLocks {
  /** The tail of each key's queue: resolves when its last holder releases. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Number of keys currently held or waited for (for tests). */
  get size(): number {
    return this.#tails.size;
  }

  async withLocks<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.#acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  async #acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}

/**
 * Two small async locks of the store.
 *
 *   Mutex          one holder at a time, FIFO         (the space check: check + cull + charge)
 *   KeyedMutex     one holder per key at a time       (lookup vs cull of the same object, §4.5 H)
 *
 *   run(fn): waits for the holder before it, runs fn, lets the next one in (also when fn throws)
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => {});
    return result;
  }
}

export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(fn);
    const tail = result.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with a holder or waiters now. */
  get size(): number {
    return this.#tails.size;
  }
}

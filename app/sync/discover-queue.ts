/**
 * The bounded work queue both discoveries walk with: the work itself adds items (a folder's
 * sub-folders), at most `limit` run at once, and nothing recurses, so a 1,000-deep tree is a
 * queue, not a stack.
 *
 *   queue [root] --pop--> work(item, queue) --push--> queue        (LIFO: depth first, so the
 *        ^                 |  up to `limit` in flight                queue stays as small as the
 *        +-----------------+                                         widest level, not the tree)
 *
 * The first failure aborts `stop` (so work in flight can give up early), waits for every call
 * in flight to settle, and only then rejects with that failure: nothing runs on afterwards.
 */
export function runQueue<T>(
  initial: readonly T[],
  limit: number,
  work: (item: T, queue: T[]) => Promise<void>,
  stop: AbortController,
): Promise<void> {
  const queue = [...initial];
  let active = 0;
  let failure: { error: unknown } | null = null;
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      if (active > 0) return;
      if (failure !== null) reject(failure.error);
      else if (queue.length === 0) resolve();
    };
    const fail = (error: unknown): void => {
      if (failure === null) {
        failure = { error };
        stop.abort();
      }
    };
    const pump = (): void => {
      while (failure === null && active < limit && queue.length > 0) {
        const item = queue.pop() as T;
        active++;
        let running: Promise<void>;
        try {
          running = work(item, queue);
        } catch (error) {
          running = Promise.reject(error);
        }
        running.then(
          () => {
            active--;
            pump();
          },
          (error: unknown) => {
            active--;
            fail(error);
            settle();
          },
        );
      }
      settle();
    };
    pump();
  });
}

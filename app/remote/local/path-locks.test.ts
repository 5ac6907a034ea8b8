import { describe, expect, it } from 'vitest';
import { PathLocks } from './path-locks.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2));

describe('per-path locks', () => {
  it('runs holders of one path one at a time, in arrival order', async () => {
    const locks = new PathLocks();
    const log: string[] = [];
    const job = (name: string) => locks.withLocks(['/a'], async () => {
      log.push(`${name} in`);
      await tick();
      log.push(`${name} out`);
      return name;
    });
    expect(await Promise.all([job('1'), job('2'), job('3')])).toEqual(['1', '2', '3']);
    expect(log).toEqual(['1 in', '1 out', '2 in', '2 out', '3 in', '3 out']);
    expect(locks.size).toBe(0);
  });

  it('lets different paths run together and never deadlocks on keys given in opposite orders', async () => {
    const locks = new PathLocks();
    let inside = 0;
    let most = 0;
    const hold = async (): Promise<void> => {
      inside++;
      most = Math.max(most, inside);
      await tick();
      inside--;
    };
    await Promise.all([locks.withLocks(['/a'], hold), locks.withLocks(['/b'], hold)]);
    expect(most).toBe(2);
    await Promise.all(Array.from({ length: 20 }, (_, i) => locks.withLocks(i % 2 === 0 ? ['/x', '/y'] : ['/y', '/x'], tick)));
    expect(locks.size).toBe(0);
  });

  it('releases the lock when the holder throws', async () => {
    const locks = new PathLocks();
    await expect(locks.withLocks(['/a'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(locks.withLocks(['/a'], () => Promise.resolve(1))).resolves.toBe(1);
    expect(locks.size).toBe(0);
  });
});

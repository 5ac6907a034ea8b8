/**
 * The child of the lock tests (lock.test.ts): it takes the engine lock of a state folder, says
 * READY, and then either holds it until killed or exits normally.
 *
 *   argv: <state dir> <hold|exit>
 */
import { EngineLock } from './lock.js';

const [dir, mode] = process.argv.slice(2);
if (dir === undefined || (mode !== 'hold' && mode !== 'exit')) throw new Error('usage: testing-lock-child.ts <dir> <hold|exit>');
EngineLock.acquire(dir);
process.stdout.write('READY\n');
if (mode === 'hold') setInterval(() => undefined, 60_000);

/**
 * The child of the journal's crash and fault tests (journal.test.ts).
 *
 *   argv: <journal file> <NORMAL|FULL> batches    C4: batches of 10,000 rows, one transaction each,
 *                                                  "COMMITTED n" after each, until SIGKILLed
 *   argv: <journal file> <NORMAL|FULL> once       F19: one batch of 1,000 rows (run under strace
 *                                                  fault injection); prints {"ok":true} or the error
 */
import { isNetfsError } from '../api/errors.js';
import { Journal } from './journal.js';
import type { BaseEntry } from './model.js';

const [file, sync, mode] = process.argv.slice(2);
if (file === undefined || (sync !== 'NORMAL' && sync !== 'FULL') || (mode !== 'batches' && mode !== 'once')) {
  throw new Error('usage: testing-journal-child.ts <file> <NORMAL|FULL> <batches|once>');
}

function rows(prefix: string, n: number, count: number): BaseEntry[] {
  const out: BaseEntry[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ path: `${prefix}/f${i}`, kind: 'file', etag: `"${n}-${i}"`, remoteSize: i, remoteMtimeMs: n, localSize: i, localMtimeMs: n, localIno: n * 100_000 + i });
  }
  return out;
}

if (mode === 'once') {
  try {
    const journal = Journal.open(file, { synchronous: sync });
    journal.recordSynced(rows('/fault', 1, 1000));
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify(isNetfsError(error) ? { code: error.code, message: error.message } : { foreign: String(error) }) + '\n');
  }
} else {
  const journal = Journal.open(file, { synchronous: sync });
  process.stdout.write('READY\n');
  for (let n = 1; ; n++) {
    journal.recordSynced(rows(`/b${n}`, n, 10_000));
    process.stdout.write(`COMMITTED ${n}\n`);
  }
}

/** Every bench case, run in this order. Later issues append theirs (each gives its own rows). */
import type { BenchCase } from '../types.js';
import { cachedRereadCase } from './cached-reread.js';
import { downloadCase } from './download.js';
import { noopResyncCase } from './noop-resync.js';
import { mibDownCase, smallDownCase, smallUpCase, upload1gCase } from './sync-trees.js';

export const CASES: readonly BenchCase[] = [
  downloadCase,
  cachedRereadCase,
  // The sync issue's rows (item 11).
  smallDownCase,
  smallUpCase,
  mibDownCase,
  upload1gCase,
  noopResyncCase,
];

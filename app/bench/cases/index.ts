/** Every bench case, run in this order. Later issues append theirs (each gives its own rows). */
import type { BenchCase } from '../types.js';
import { cachedRereadCase } from './cached-reread.js';
import { downloadCase } from './download.js';

export const CASES: readonly BenchCase[] = [downloadCase, cachedRereadCase];

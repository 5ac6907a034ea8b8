/** Every bench case, run in this order. Later issues append theirs (each gives its own rows). */
import type { BenchCase } from '../types.js';
import { downloadCase } from './download.js';

export const CASES: readonly BenchCase[] = [downloadCase];

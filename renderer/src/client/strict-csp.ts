/**
 * The page runs under `script-src 'self'` (no 'unsafe-eval'). zod 4 probes `new Function` when
 * it builds object schemas (at import time of the contract) to compile fast parsers; even
 * caught, the probe is reported as a CSP violation. Its jitless mode skips the probe and parses
 * the same. Imported for its effect, first thing in main.tsx, before the contract is loaded.
 */
import { z } from 'zod';

z.config({ jitless: true });


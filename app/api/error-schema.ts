/**
 * Runtime schemas of the error shapes (zod), apart from errors.ts so that the engine, which
 * only throws and maps errors, does not load zod.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorShape } from './errors.js';

export const errorCodeSchema = z.enum(ERROR_CODES);

export const errorShapeSchema: z.ZodType<ErrorShape> = z.object({
  code: errorCodeSchema,
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
  status: z.number().int().optional(),
});

/**
 * The per-launch token of the headless host (S10): 256 random bits, base64url (43 characters),
 * new each launch, compared in constant time.
 *
 *   newToken()              crypto.randomBytes(32) -> base64url
 *   tokenMatches(given, t)  timingSafeEqual on equal-length buffers; another length compares
 *                           t with itself (same work) and fails
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_LENGTH = 43;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isTokenShaped(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

export function tokenMatches(given: unknown, token: string): boolean {
  const want = Buffer.from(token, 'utf8');
  if (typeof given !== 'string') {
    timingSafeEqual(want, want);
    return false;
  }
  const got = Buffer.from(given, 'utf8');
  if (got.length !== want.length) {
    timingSafeEqual(want, want);
    return false;
  }
  return timingSafeEqual(got, want);
}

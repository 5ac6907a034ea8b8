/**
 * Dates as WebDAV servers send them (B3): the three HTTP-date forms of RFC 9110 §5.6.7
 * (IMF-fixdate, RFC 850, asctime), RFC 1123 with a numeric zone or another zone name, and
 * ISO 8601 (some servers put `creationdate`'s format in `getlastmodified`). Anything else,
 * empty or garbage, is null: unknown, never a guess.
 */
const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};
const ZONES: Record<string, number> = { GMT: 0, UT: 0, UTC: 0, Z: 0, EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420 };

// Sun, 06 Nov 1994 08:49:37 GMT   |   Sun, 6 Nov 1994 08:49:37 +0100
const RFC1123 = /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s*([A-Za-z]{1,3}|[+-]\d{4})$/;
// Sunday, 06-Nov-94 08:49:37 GMT
const RFC850 = /^[A-Za-z]+,\s*(\d{2})-([A-Za-z]{3})-(\d{2}|\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s*([A-Za-z]{1,3})$/;
// Sun Nov  6 08:49:37 1994
const ASCTIME = /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})$/;
// 1994-11-06T08:49:37Z, 1994-11-06T08:49:37.123+01:00
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

function build(year: number, month: number | undefined, day: number, h: number, m: number, s: number, offsetMin: number): number | null {
  if (month === undefined || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return null;
  const ms = Date.UTC(year, month, day, h, m, Math.min(s, 59)) - offsetMin * 60_000;
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCDate() !== day) return null; // 31 Feb and friends
  return Number.isFinite(ms) ? ms : null;
}

function zoneOffset(zone: string): number | undefined {
  if (/^[+-]\d{4}$/.test(zone)) {
    const sign = zone.startsWith('-') ? -1 : 1;
    return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  }
  return ZONES[zone.toUpperCase()];
}

/** Milliseconds since the epoch, or null when the text is not a date we can trust. */
export function parseHttpDate(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const t = text.trim();
  if (t === '') return null;
  let m = RFC1123.exec(t);
  if (m !== null) {
    const off = zoneOffset(m[7]!);
    if (off === undefined) return null;
    return build(Number(m[3]), MONTHS[m[2]!.toLowerCase()], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), off);
  }
  m = RFC850.exec(t);
  if (m !== null) {
    const off = zoneOffset(m[7]!);
    if (off === undefined) return null;
    let year = Number(m[3]);
    if (m[3]!.length === 2) {
      // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
      const now = new Date().getUTCFullYear();
      year += 2000;
      if (year > now + 50) year -= 100;
    }
    return build(year, MONTHS[m[2]!.toLowerCase()], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), off);
  }
  m = ASCTIME.exec(t);
  if (m !== null) {
    return build(Number(m[6]), MONTHS[m[1]!.toLowerCase()], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), 0);
  }
  m = ISO8601.exec(t);
  if (m !== null) {
    const zone = m[8]!;
    let off = 0;
    if (zone !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      off = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    }
    const base = build(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), off);
    if (base === null) return null;
    const frac = m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000);
    return base + frac;
  }
  return null;
}

/** IMF-fixdate, the form to send (If-Unmodified-Since). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Longest wait we accept from a server; longer asks are capped (F8: absurd values). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; capped at one hour;
 * undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const t = value.trim();
  if (/^\d+$/.test(t)) {
    const seconds = Number(t);
    return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  }
  const at = parseHttpDate(t);
  if (at === null) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

/**
 * One trace event as a line like the kernel's tracepoints (pure):
 *
 *   R=0000002a[3] DOWN TERM s=8388608 1048576/1048576 e=TRANSIENT
 */
import { debugIdLabel } from './transfer-model.js';

export type TraceEvent = { seq: number; timeMs: number } & Record<string, unknown>;

export function traceLine(e: TraceEvent): string {
  const parts: string[] = [];
  const rreq = typeof e['rreq'] === 'number' ? debugIdLabel(e['rreq']) : '';
  parts.push(typeof e['sreq'] === 'number' ? `${rreq}[${e['sreq']}]` : rreq);
  for (const k of ['source', 'what']) if (typeof e[k] === 'string') parts.push(e[k] as string);
  if (typeof e['start'] === 'number') parts.push(`s=${e['start']}`);
  if (typeof e['len'] === 'number') parts.push(`${typeof e['transferred'] === 'number' ? e['transferred'] : '?'}/${e['len']}`);
  if (typeof e['error'] === 'string') parts.push(`e=${e['error']}`);
  if (typeof e['note'] === 'string') parts.push(e['note']);
  const known = new Set(['seq', 'timeMs', 'kind', 'rreq', 'sreq', 'source', 'what', 'start', 'len', 'transferred', 'error', 'note']);
  for (const [k, v] of Object.entries(e)) if (!known.has(k)) parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.filter((p) => p !== '').join(' ');
}

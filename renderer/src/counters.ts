/**
 * Counter groups as the engine names them, flattened for tables (pure).
 */
export type Counters = Record<string, unknown>;

function isGroup(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Flattens {group: {name: n}} and {group: {sub: {name: n}}} into [group, [[name, n]…]]. */
export function counterGroups(counters: Counters): Array<[string, Array<[string, number]>]> {
  const out: Array<[string, Array<[string, number]>]> = [];
  const loose: Array<[string, number]> = [];
  for (const [group, value] of Object.entries(counters)) {
    if (typeof value === 'number') loose.push([group, value]);
    else if (isGroup(value)) {
      const rows: Array<[string, number]> = [];
      for (const [name, v] of Object.entries(value)) {
        if (typeof v === 'number') rows.push([name, v]);
        else if (isGroup(v)) for (const [n2, v2] of Object.entries(v)) if (typeof v2 === 'number') rows.push([`${name}.${n2}`, v2]);
      }
      out.push([group, rows]);
    }
  }
  if (loose.length > 0) out.unshift(['totals', loose]);
  return out;
}

/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file, the
 * biggest first. For diagnosis (bench --diagnose), printed to stderr.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: Array<{ what: string; ms: number }>;
  byFile: Array<{ what: string; ms: number }>;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const dist = url.indexOf('/dist/app/');
  if (dist >= 0) return url.slice(dist + 6);
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  return url.replace(/^file:\/\//, '');
}

function top(map: Map<string, number>, n: number): Array<{ what: string; ms: number }> {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([what, us]) => ({ what, ms: Math.round(us / 1000) }));
}

export function summarise(profile: CpuProfile, n = 15): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) return;
    total += us;
    const file = shortUrl(frame.url);
    const fn = `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${file}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  });
  return { totalMs: Math.round(total / 1000), byFunction: top(byFunction, n), byFile: top(byFile, n) };
}

/** The summary of the one .cpuprofile in `dir`. */
export async function summariseDir(dir: string, n = 15): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const first = files[0];
  if (first === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  return summarise(JSON.parse(await readFile(join(dir, first), 'utf8')) as CpuProfile, n);
}

export function formatSummary(s: ProfileSummary): string {
  const pad = (ms: number): string => `${ms}`.padStart(7);
  return [
    `  sampled ${s.totalMs} ms; self time by file:`,
    ...s.byFile.map((e) => `  ${pad(e.ms)} ms  ${e.what}`),
    '  self time by function:',
    ...s.byFunction.map((e) => `  ${pad(e.ms)} ms  ${e.what}`),
  ].join('\n');
}

/**
 * How busy the machine is besides us: the bench compares wall times on a small machine (2 CPUs
 * here), so a test suite running at the same time skews them. Sampled from /proc/stat while the
 * bench itself is idle (between runs), reported on stderr and under the table.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';

async function cpuTicks(): Promise<{ busy: number; total: number } | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
    if (line === undefined) return null;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
  } catch {
    return null;
  }
}

/** CPUs kept busy (0 … number of CPUs) by other processes over the next `ms`, or null where unknown. */
export async function foreignBusyCpus(ms = 500): Promise<number | null> {
  const a = await cpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = await cpuTicks();
  if (a === null || b === null || b.total === a.total) return null;
  return ((b.busy - a.busy) / (b.total - a.total)) * cpus().length;
}

/** Watches for other load; `worst` is the largest sample seen. */
export class QuietWatch {
  worst = 0;
  constructor(private readonly log: (line: string) => void, private readonly threshold = 0.25) {}

  async sample(label: string): Promise<void> {
    const busy = await foreignBusyCpus();
    if (busy === null) return;
    this.worst = Math.max(this.worst, busy);
    if (busy >= this.threshold) this.log(`warning: other processes keep ${busy.toFixed(2)} CPUs busy (${label}); times may be skewed`);
  }

  /** A line for under the table, or null when the machine stayed quiet. */
  note(): string | null {
    return this.worst >= this.threshold
      ? `warning: other processes kept up to ${this.worst.toFixed(2)} of ${cpus().length} CPUs busy between runs; these times are skewed`
      : null;
  }
}

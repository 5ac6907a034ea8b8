// The fault proxy's record of every request it saw, in order of arrival, plus waitFor (resolve
// when some request matches) and stats (counts by method, status, outcome, rule). Records are
// updated in place while their request runs; waiters are woken on arrival, on the response
// status, and at the end, not on every byte.
import type { FaultProxyStats, ProxiedOutcome, ProxiedRequest } from './fault-proxy-types.js';

export type RequestRecord = { -readonly [K in keyof ProxiedRequest]: ProxiedRequest[K] };

export type RequestArrival = Pick<ProxiedRequest, 'connection' | 'method' | 'path' | 'headers'>;

function describe(request: ProxiedRequest): string {
  return `#${request.index} ${request.method} ${request.path} → ${request.status ?? '-'} ${request.outcome}${request.rule === null ? '' : ` [${request.rule}]`}`;
}

export class RequestLog {
  readonly requests: RequestRecord[] = [];
  private readonly waiters = new Set<() => void>();
  private nextIndex = 0;

  open(arrival: RequestArrival): RequestRecord {
    const record: RequestRecord = {
      index: this.nextIndex++,
      time: Date.now(),
      ...arrival,
      status: null,
      upstreamStatus: null,
      forwarded: false,
      bytesIn: 0,
      bytesOut: 0,
      rule: null,
      action: null,
      outcome: 'pending',
      endTime: null,
      error: null,
    };
    this.requests.push(record);
    this.notify();
    return record;
  }

  /** Sets fields and wakes the waiters. */
  update(record: RequestRecord, changes: Partial<RequestRecord>): void {
    Object.assign(record, changes);
    this.notify();
  }

  /** Ends a pending request (later calls are ignored); a hung one only gets its end time. */
  finish(record: RequestRecord, outcome: ProxiedOutcome, error?: unknown): void {
    if (record.outcome === 'hung' && record.endTime === null) {
      this.update(record, { endTime: Date.now() });
      return;
    }
    if (record.outcome !== 'pending') return;
    const message = error === undefined ? null : error instanceof Error ? error.message : String(error);
    this.update(record, { outcome, endTime: outcome === 'hung' ? null : Date.now(), error: message });
  }

  /** Forgets the requests seen so far; indexes keep counting. */
  clear(): void {
    this.requests.length = 0;
  }

  waitFor(predicate: (request: ProxiedRequest) => boolean, timeoutMs = 5_000): Promise<ProxiedRequest> {
    const found = this.requests.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.requests.find(predicate);
        if (hit === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const recent = this.requests.slice(-10).map(describe).join('\n  ');
        reject(new Error(`fault proxy: no matching request within ${timeoutMs} ms; last requests:\n  ${recent || '(none)'}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  stats(): FaultProxyStats {
    const stats: FaultProxyStats = { total: 0, byMethod: {}, byStatus: {}, byOutcome: {}, byRule: {}, bytesIn: 0, bytesOut: 0 };
    const bump = (table: Record<string, number>, key: string): void => {
      table[key] = (table[key] ?? 0) + 1;
    };
    for (const r of this.requests) {
      stats.total += 1;
      bump(stats.byMethod, r.method);
      bump(stats.byStatus, r.status === null ? 'none' : String(r.status));
      stats.byOutcome[r.outcome] = (stats.byOutcome[r.outcome] ?? 0) + 1;
      if (r.rule !== null) bump(stats.byRule, r.rule);
      stats.bytesIn += r.bytesIn;
      stats.bytesOut += r.bytesOut;
    }
    return stats;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

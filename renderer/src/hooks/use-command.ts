/**
 * Runs a read-only command when a view shows and again when asked (reload, a stream's new
 * sequence number, an interval), keeping the last good value while the next one loads, so
 * live data never makes the layout jump. At most one call runs at a time; asks that arrive
 * meanwhile fold into one more call.
 *
 *   mount ──call──> {value}    stream seq changes ──call──> {value'}    reload() ──call──> …
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CommandName, CommandRequest, CommandResult, EventName, Result } from '../../../app/api/contract.js';
import type { ErrorShape } from '../../../app/api/errors.js';
import { useConnection } from './connection-context.js';
import { useStream } from './use-stream.js';

export interface CommandState<T> {
  /** The last good answer to this very request (null while the first one loads). */
  value: T | null;
  error: ErrorShape | null;
  loading: boolean;
  reload: () => void;
}

export interface CommandOptions {
  /** Run again whenever this stream delivers a new snapshot (at most every `minGapMs`). */
  refreshOn?: EventName;
  intervalMs?: number;
  minGapMs?: number;
  enabled?: boolean;
}

interface Answer<T> {
  key: string;
  value: T | null;
  error: ErrorShape | null;
}

export function useCommand<K extends CommandName>(command: K, request: CommandRequest<K>, options: CommandOptions = {}): CommandState<CommandResult<K>> {
  const { client } = useConnection();
  const key = JSON.stringify(request);
  const [answer, setAnswer] = useState<Answer<CommandResult<K>>>({ key: '', value: null, error: null });
  const [tick, setTick] = useState(0);
  const [loading, setLoading] = useState(true);
  const running = useRef(false);
  const again = useRef(false);
  const lastRun = useRef(0);
  const lastKey = useRef('');
  const mounted = useRef(true);
  const enabled = options.enabled ?? true;
  const stream = useStream(options.refreshOn ?? 'sync.status');
  const seq = options.refreshOn === undefined ? 0 : (stream?.seq ?? 0);
  const minGapMs = options.minGapMs ?? 1000;

  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    if (!enabled) return;
    const run = async (): Promise<void> => {
      if (running.current) {
        again.current = true;
        return;
      }
      running.current = true;
      lastKey.current = key;
      setLoading(true);
      const call = client[command] as (req: unknown) => Promise<Result<CommandResult<K>>>;
      const r = await call(JSON.parse(key) as unknown);
      running.current = false;
      lastRun.current = Date.now();
      if (!mounted.current) return;
      setLoading(false);
      setAnswer((prev) => (r.ok ? { key, value: r.value, error: null } : { key, value: prev.key === key ? prev.value : null, error: r.error }));
      if (again.current) {
        again.current = false;
        setTick((t) => t + 1);
      }
    };
    // A new request (another folder, another file) goes at once; refreshes of the same one are spaced.
    const wait = lastKey.current !== key ? 0 : Math.max(0, lastRun.current + minGapMs - Date.now());
    const timer = setTimeout(() => void run(), wait);
    return () => clearTimeout(timer);
  }, [client, command, key, tick, seq, enabled, minGapMs]);

  useEffect(() => {
    if (options.intervalMs === undefined || !enabled) return;
    const id = setInterval(reload, options.intervalMs);
    return () => clearInterval(id);
  }, [options.intervalMs, enabled, reload]);

  const current = answer.key === key;
  return { value: current ? answer.value : null, error: current ? answer.error : null, loading: loading || !current, reload };
}

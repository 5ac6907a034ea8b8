/**
 * A button's command: busy while it runs, its error (as the host said it) or a short note of
 * success, and a callback after success (usually a reload).
 */
import { useCallback, useState } from 'react';
import type { CommandName, CommandRequest, CommandResult } from '../../../app/api/contract.js';
import type { Result } from '../../../app/api/contract.js';
import type { ErrorShape } from '../../../app/api/errors.js';
import { useConnection } from './connection-context.js';

export interface ActionState<K extends CommandName> {
  run: (request: CommandRequest<K>) => Promise<Result<CommandResult<K>>>;
  busy: boolean;
  error: ErrorShape | null;
  clearError: () => void;
}

export function useAction<K extends CommandName>(command: K, onDone?: (value: CommandResult<K>) => void): ActionState<K> {
  const { client } = useConnection();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorShape | null>(null);
  const run = useCallback(
    async (request: CommandRequest<K>) => {
      setBusy(true);
      setError(null);
      const call = client[command] as (req: CommandRequest<K>) => Promise<Result<CommandResult<K>>>;
      const r = await call(request);
      setBusy(false);
      if (r.ok) onDone?.(r.value);
      else setError(r.error);
      return r;
    },
    [client, command, onDone],
  );
  const clearError = useCallback(() => setError(null), []);
  return { run, busy, error, clearError };
}

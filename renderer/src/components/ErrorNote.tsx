/** An error as the host reported it: its code in plain words, then its message, as text. */
import type { ErrorShape } from '../../../app/api/errors.js';

const PLAIN: Record<string, string> = {
  NOT_FOUND: 'Not found',
  PRECONDITION_FAILED: 'Changed by someone else',
  CONFLICT: 'Conflict',
  LOCKED: 'Locked on the server',
  INSUFFICIENT_STORAGE: 'Out of space',
  AUTH: 'The server refused the user name or password',
  FORBIDDEN: 'Not allowed',
  UNREACHABLE: 'Cannot reach',
  TRANSIENT: 'Temporary failure',
  PROTOCOL: 'Unexpected answer',
  TOO_LARGE: 'Too large',
  CANCELLED: 'Cancelled',
  UNSUPPORTED: 'Not supported',
  INSECURE: 'Refused as insecure',
  IO: 'Input/output error',
  INVALID_ARGUMENT: 'Not valid',
  CHANGED_ON_SERVER: 'Changed on the server',
};

export function plainCode(code: string): string {
  return PLAIN[code] ?? code;
}

export function ErrorNote({ error, label }: { error: ErrorShape | { code: string; message: string } | null; label?: string }) {
  if (error === null) return null;
  return (
    <p className="error-note" role="alert">
      {label !== undefined && <span className="error-label">{label}: </span>}
      <strong>{plainCode(error.code)}</strong> <span className="error-message">{error.message}</span>
    </p>
  );
}

/**
 * Foreign errors from undici, the socket and TLS, mapped to the codes of app/api/errors.ts:
 *
 *   refused / no such host / connect timeout   -> UNREACHABLE
 *   reset / closed / header or body timeout    -> TRANSIENT  (worth a retry)
 *   body shorter than its Content-Length       -> TRANSIENT  (short read with progress: reissue the rest)
 *   bad certificate                            -> INSECURE   (never bypassed)
 *   malformed HTTP, headers over the cap       -> PROTOCOL
 */
import { NetfsError, isNetfsError } from '../../api/errors.js';

const UNREACHABLE = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN']);
const TRANSIENT = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'UND_ERR_INFO']);
const TLS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'INVALID_CA', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 4 && typeof e === 'object' && e !== null; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

export function mapTransportError(err: unknown, what: string, timeouts: { headersMs: number; bodyIdleMs: number }): NetfsError {
  if (isNetfsError(err)) return err as NetfsError;
  const codes = codesOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const has = (set: ReadonlySet<string>): string | undefined => codes.find((c) => set.has(c));
  let code: string | undefined;
  if (codes.includes('UND_ERR_ABORTED')) return new NetfsError('CANCELLED', `${what}: cancelled`, { cause: err });
  if ((code = has(TLS)) !== undefined) {
    return new NetfsError('INSECURE', `${what}: the server's TLS certificate is not trusted (${code}); add its CA with --ca, the check is never skipped`, { cause: err });
  }
  if ((code = has(UNREACHABLE)) !== undefined) {
    return new NetfsError('UNREACHABLE', `${what}: server unreachable (${code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timeout' : code})`, { cause: err });
  }
  if (codes.includes('UND_ERR_HEADERS_TIMEOUT')) {
    return new NetfsError('TRANSIENT', `${what}: no answer within ${Math.round(timeouts.headersMs / 1000)} s`, { cause: err });
  }
  if (codes.includes('UND_ERR_BODY_TIMEOUT')) {
    return new NetfsError('TRANSIENT', `${what}: the answer stalled for ${Math.round(timeouts.bodyIdleMs / 1000)} s`, { cause: err });
  }
  if (codes.includes('UND_ERR_HEADERS_OVERFLOW')) {
    return new NetfsError('PROTOCOL', `${what}: the server's response headers are larger than allowed`, { cause: err });
  }
  if (codes.includes('UND_ERR_RES_CONTENT_LENGTH_MISMATCH')) {
    return new NetfsError('TRANSIENT', `${what}: the body ended before its Content-Length`, { cause: err });
  }
  if (codes.includes('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')) {
    return new NetfsError('IO', `${what}: the data to send did not match its announced length`, { cause: err });
  }
  if (codes.some((c) => c.startsWith('HPE_'))) {
    return new NetfsError('PROTOCOL', `${what}: malformed HTTP response (${codes.find((c) => c.startsWith('HPE_'))})`, { cause: err });
  }
  if ((code = has(TRANSIENT)) !== undefined) {
    return new NetfsError('TRANSIENT', `${what}: connection failed (${code}: ${message})`, { cause: err });
  }
  return new NetfsError('TRANSIENT', `${what}: ${message}`, { cause: err });
}

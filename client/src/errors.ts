import type { ErrorCode } from './generated.js';

/**
 * Codes of the client's own failures, beside the service's codes:
 * - `token_refused`: the service refused the token `getToken()` returned; the client stops.
 * - `closed`: the client was closed before the operation finished.
 * - `network`: the service could not be reached (retried where the operation is retried).
 * - `protocol`: the service answered something the client does not understand.
 */
export type ClientErrorCode = ErrorCode | 'token_refused' | 'closed' | 'network' | 'protocol';

export class ChatClientError extends Error {
  readonly code: ClientErrorCode;
  /** HTTP status, when the error came from a REST or SSE response. */
  readonly status: number | undefined;
  /** The service's `details` (e.g. `retry_after_seconds` of `rate_limited`). */
  readonly details: unknown;

  constructor(code: ClientErrorCode, message: string, options: { status?: number; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatClientError';
    this.code = code;
    this.status = options.status;
    this.details = options.details;
  }
}

/** Service errors a retry can cure: the same `client_id` makes the retry safe. */
export function isRetryable(code: ClientErrorCode): boolean {
  return code === 'rate_limited' || code === 'internal_error' || code === 'network';
}

/** Milliseconds the service asked the caller to wait (`rate_limited`), if it said. */
export function retryAfterMs(details: unknown): number | undefined {
  const seconds = (details as { retry_after_seconds?: unknown } | null | undefined)?.retry_after_seconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

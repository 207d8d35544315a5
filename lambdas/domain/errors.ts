/**
 * Typed errors of the service. `toErrorBody` below is the one place that maps them to what a client
 * sees (an HTTP status and body, or a WebSocket `error` event); anything else becomes a generic
 * `internal_error` with no detail.
 */
export type ErrorCode =
  | 'invalid_json'
  | 'validation_error'
  | 'unknown_action'
  | 'unsupported_type'
  | 'invalid_base64'
  | 'format_mismatch'
  | 'payload_too_large'
  | 'not_found'
  | 'method_not_allowed'
  | 'not_in_room'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'unsupported_packet'
  | 'internal_error';

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  validation_error: 400,
  unknown_action: 400,
  unsupported_type: 400,
  invalid_base64: 400,
  format_mismatch: 400,
  payload_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  not_in_room: 409,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  unsupported_packet: 400,
  internal_error: 500,
};

export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.status = HTTP_STATUS[code];
    this.details = details;
  }
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** The client-safe view of any thrown value: typed errors keep their message, others are hidden. */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ChatError) {
    const body: ErrorBody = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return { status: error.status, body };
  }
  return { status: 500, body: { code: 'internal_error', message: 'Internal server error' } };
}

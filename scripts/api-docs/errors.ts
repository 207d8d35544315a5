/** Error examples: one realistic message per code, and the status each code maps to. */
import { ChatError, type ErrorCode, toErrorBody } from '../../lambdas/domain/errors.js';
import { LIMITS, RATE_LIMITS } from '../../lambdas/shared/limits.js';
import { ERROR_CODES } from './wire.js';

const EXAMPLE_MESSAGES: Record<ErrorCode, string> = {
  invalid_json: 'Request body is not valid JSON',
  validation_error: 'Invalid message: room: room is at most 64 characters',
  unknown_action: 'Unknown action "shout"; use one of message, send_text, send_image, send_audio, ping, join, leave, resume',
  unsupported_type: 'Unsupported message type "video"; use text, image or audio',
  invalid_base64: 'image content is not valid base64',
  format_mismatch: 'Declared format "png" but the data is jpg',
  payload_too_large: `text is at most ${LIMITS.textMaxChars} characters`,
  not_found: 'No route for /api/nothing',
  method_not_allowed: 'DELETE is not allowed on /api/message; use POST',
  not_in_room: 'Join a room first ({"action": "join", "data": {"room": "..."}})',
  conflict: 'Room "team" already exists',
  unauthorized: 'Send a valid token: Authorization: Bearer <token>',
  forbidden: 'This action needs the "admin" role',
  rate_limited: `Too many messages: at most ${RATE_LIMITS.perConnection} per connection and ${RATE_LIMITS.perUser} per user every ${RATE_LIMITS.windowSeconds} s; retry in 7 s`,
  unsupported_packet: 'binary attachments are not supported; send media as base64 strings',
  internal_error: 'Internal server error',
};

const EXAMPLE_DETAILS: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  rate_limited: { retry_after_seconds: 7 },
};

/** The error as the service's one mapping (`toErrorBody`) renders it. */
export function errorExample(code: ErrorCode, message = EXAMPLE_MESSAGES[code]): { status: number; body: { code: ErrorCode; message: string; details?: unknown } } {
  return toErrorBody(new ChatError(code, message, EXAMPLE_DETAILS[code]));
}

export function statusOf(code: ErrorCode): number {
  return errorExample(code).status;
}

export { ERROR_CODES };

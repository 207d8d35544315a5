/** One frame to one connection, with the service's retry policy for throttling (429) and 5xx. */
import { LIMITS } from '../shared/limits.js';
import { type ConnectionGateway, type PostOutcome, TransientDeliveryError } from './ports.js';
import { withRetry } from './retry.js';

export function postWithRetry(gateway: Pick<ConnectionGateway, 'post'>, connectionId: string, frame: string, deadline?: number): Promise<PostOutcome> {
  return withRetry(() => gateway.post(connectionId, frame), {
    retries: LIMITS.postRetries,
    baseMs: LIMITS.postRetryBaseMs,
    maxMs: LIMITS.postRetryMaxMs,
    retryable: (error) => error instanceof TransientDeliveryError,
    ...(deadline !== undefined ? { deadline } : {}),
  });
}

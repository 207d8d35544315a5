/**
 * API Gateway's stage throttling, as the template sets it (DefaultRouteSettings ThrottlingRateLimit /
 * ThrottlingBurstLimit): a token bucket per stage that holds at most burstLimit tokens and gains
 * rateLimit tokens a second; each request takes one, and a request that finds none is refused with
 * 429 Too Many Requests (the HTTP API answers `{"message":"Too Many Requests"}`, a WebSocket
 * handshake gets 429, a WebSocket message an error frame). AWS applies it best effort across its
 * fleet; here it is exact, which is the stricter reading.
 */
import type { StageThrottle } from './template.js';

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limits: StageThrottle,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = limits.burstLimit;
    this.refilledAt = now();
  }

  /** Takes a token for one request; false when the bucket is empty (throttled). */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.limits.burstLimit, this.tokens + ((now - this.refilledAt) / 1000) * this.limits.rateLimit);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A bucket for the stage, or nothing to check when the template sets no throttling. */
export function stageBucket(throttle: StageThrottle | undefined): TokenBucket | undefined {
  return throttle ? new TokenBucket(throttle) : undefined;
}

export const TOO_MANY_REQUESTS = 'Too Many Requests';

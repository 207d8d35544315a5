/** Per-connection and per-user message rate limits over fixed windows (settings passed in). */
import type { RateLimitSettings } from '../shared/limits.js';
import { ChatError } from './errors.js';
import type { Clock, RateCounter } from './ports.js';

export class RateLimiter {
  constructor(
    private readonly counter: RateCounter,
    private readonly clock: Clock,
    private readonly settings: RateLimitSettings,
  ) {}

  /**
   * Counts one request and throws `rate_limited` when the connection or the user is over its
   * limit in this window (each counter only where its key is known).
   */
  async check(connectionId: string | undefined, userId: string | undefined): Promise<void> {
    const window = this.settings.windowSeconds;
    const nowSec = Math.floor(this.clock.now() / 1000);
    const start = nowSec - (nowSec % window);
    const expires = start + window * 2;
    const [conn, user] = await Promise.all([
      connectionId ? this.counter.increment(`conn#${connectionId}`, start, expires) : Promise.resolve(0),
      userId ? this.counter.increment(`user#${userId}`, start, expires) : Promise.resolve(0),
    ]);
    if (conn > this.settings.perConnection || user > this.settings.perUser) {
      const retryAfter = start + window - nowSec;
      throw new ChatError(
        'rate_limited',
        `Too many requests: at most ${this.settings.perConnection} per connection and ${this.settings.perUser} per user every ${window} s; retry in ${retryAfter} s`,
        { retry_after_seconds: retryAfter },
      );
    }
  }
}

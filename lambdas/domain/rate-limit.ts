/** Per-connection and per-user message rate limits over fixed windows (settings passed in). */
import type { RateLimitSettings } from '../shared/limits.js';
import { ChatError } from './errors.js';
import type { Clock, RateCounter } from './ports.js';

/** The counter of every request of the record's owner (a user, or a connection without one). */
const USER_COUNTER = 'hits';

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
    // Both counters live in one record per user and window (the connection's as a field of the
    // user's): one write a message instead of two, which is a third of a small room's DynamoDB
    // bill (bench/). Without a user, the connection has a record of its own.
    let conn = 0;
    let user = 0;
    if (userId) {
      const counters = connectionId ? [USER_COUNTER, `conn#${connectionId}`] : [USER_COUNTER];
      const counts = await this.counter.increment(`user#${userId}`, counters, start, expires);
      user = counts[USER_COUNTER] ?? 0;
      conn = connectionId ? (counts[`conn#${connectionId}`] ?? 0) : 0;
    } else if (connectionId) {
      conn = (await this.counter.increment(`conn#${connectionId}`, [USER_COUNTER], start, expires))[USER_COUNTER] ?? 0;
    }
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

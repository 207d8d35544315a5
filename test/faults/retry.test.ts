/**
 * Retries (lambdas/domain/retry.ts): exponential backoff with full jitter, a fixed number of
 * attempts, then the caller's own error, unchanged; never a tight loop. Unit level: the sleeps are
 * recorded (or real and short), the randomness is injected.
 */
import { describe, expect, it } from 'vitest';
import { TransientDeliveryError } from '../../lambdas/domain/ports.js';
import { backoffDelay, withRetry } from '../../lambdas/domain/retry.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { createRng } from '../support/faults.js';

const retryable = (error: unknown) => error instanceof TransientDeliveryError;

/** A sleep that records the delays and returns at once. */
function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

describe('backoffDelay', () => {
  it('caps grow exponentially from the base up to the maximum', () => {
    const almostOne = () => 0.999_999;
    const caps = Array.from({ length: 8 }, (_, attempt) => backoffDelay(attempt, 50, 2000, almostOne) + 1);
    expect(caps).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000]);
  });

  it('is full jitter: uniform over [0, cap), not a fixed or half-fixed delay', () => {
    const random = createRng(42);
    const cap = 800; // attempt 4 with base 50
    const samples = Array.from({ length: 4000 }, () => backoffDelay(4, 50, 2000, random));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(cap);
    // Full jitter reaches both ends of the range and averages half the cap.
    expect(Math.min(...samples)).toBeLessThan(cap * 0.05);
    expect(Math.max(...samples)).toBeGreaterThan(cap * 0.95);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(cap * 0.45);
    expect(mean).toBeLessThan(cap * 0.55);
    // Evenly spread: each quarter of the range holds about a quarter of the samples.
    for (let q = 0; q < 4; q++) {
      const share = samples.filter((s) => s >= (q * cap) / 4 && s < ((q + 1) * cap) / 4).length / samples.length;
      expect(share).toBeGreaterThan(0.2);
      expect(share).toBeLessThan(0.3);
    }
  });
});

describe('withRetry', () => {
  it('retries a transient failure with backoff and returns the first success', async () => {
    const { delays, sleep } = recordingSleep();
    const random = () => 0.5;
    let calls = 0;
    const result = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt < 3) throw new TransientDeliveryError('PostToConnection throttled', 'throttled');
        return 'ok';
      },
      { retries: 6, baseMs: 50, maxMs: 2000, retryable, sleep, random },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(delays).toEqual([25, 50, 100]);
  });

  it('gives up after its retries with the last error, unchanged (class and message), and never spins', async () => {
    const { delays, sleep } = recordingSleep();
    const errors: TransientDeliveryError[] = [];
    const attempt = withRetry(
      async (n) => {
        const error = new TransientDeliveryError(`PostToConnection 500 (attempt ${n + 1})`, 'server');
        errors.push(error);
        throw error;
      },
      { retries: LIMITS.postRetries, baseMs: LIMITS.postRetryBaseMs, maxMs: LIMITS.postRetryMaxMs, retryable, sleep, random: createRng(7) },
    );
    const thrown = await attempt.catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(TransientDeliveryError);
    expect(thrown).toBe(errors.at(-1));
    expect((thrown as Error).message).toBe(`PostToConnection 500 (attempt ${LIMITS.postRetries + 1})`);
    // Exactly retries + 1 attempts, one sleep between each two, each within its doubling cap.
    expect(errors).toHaveLength(LIMITS.postRetries + 1);
    expect(delays).toHaveLength(LIMITS.postRetries);
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(LIMITS.postRetryMaxMs, LIMITS.postRetryBaseMs * 2 ** i));
    });
  });

  it('does not retry an error that is not retryable (a permanent failure is not worth a second call)', async () => {
    const { delays, sleep } = recordingSleep();
    let calls = 0;
    const permanent = Object.assign(new Error('BadRequestException'), { name: 'BadRequestException' });
    await expect(
      withRetry(
        async () => {
          calls++;
          throw permanent;
        },
        { retries: 6, baseMs: 50, maxMs: 2000, retryable, sleep },
      ),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it('stops before the deadline instead of sleeping past it (the Lambda timeout)', async () => {
    const { delays, sleep } = recordingSleep();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new TransientDeliveryError('PostToConnection throttled', 'throttled');
        },
        // Each delay is half its cap: 500, 1000, 2000 ... the third one would cross the deadline.
        { retries: 10, baseMs: 1000, maxMs: 60_000, retryable, sleep, random: () => 0.5, deadline: Date.now() + 1_800 },
      ),
    ).rejects.toBeInstanceOf(TransientDeliveryError);
    expect(delays).toEqual([500, 1000]);
    expect(calls).toBe(3);
  });

  it('with real timers: the attempts are spaced by the backoff (no busy loop), and the total is bounded', async () => {
    const calledAt: number[] = [];
    const started = Date.now();
    await expect(
      withRetry(
        async () => {
          calledAt.push(Date.now());
          throw new TransientDeliveryError('PostToConnection throttled', 'throttled');
        },
        { retries: 4, baseMs: 20, maxMs: 1000, retryable, random: () => 0.99 },
      ),
    ).rejects.toThrow('PostToConnection throttled');
    const gaps = calledAt.slice(1).map((t, i) => t - calledAt[i]!);
    expect(calledAt).toHaveLength(5);
    // Delays of floor(0.99 * cap): 19, 39, 79, 158 ms (timers may fire a millisecond early).
    for (const [i, delay] of [19, 39, 79, 158].entries()) expect(gaps[i]).toBeGreaterThanOrEqual(delay - 2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

/**
 * Concurrency limit with additive increase and multiplicative decrease (AIMD): `acquire` waits for
 * a slot, `onThrottle` halves the limit (at most once per `coolDownMs`, so a burst of 429s from one
 * window counts once), `onSuccess` adds one slot per `limit` successes. Parallel fan-out
 * invocations each run one, and settle near the account's PostToConnection rate.
 */
export class AdaptiveConcurrency {
  private current: number;
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private lastDecrease = 0;

  constructor(
    readonly max: number,
    readonly min = Math.min(4, max),
    private readonly coolDownMs = 50,
  ) {
    this.current = max;
  }

  get limit(): number {
    return Math.floor(this.current);
  }

  acquire(): Promise<void> {
    if (this.inFlight < this.limit && this.waiters.length === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
  }

  release(): void {
    this.inFlight--;
    this.pump();
  }

  onSuccess(): void {
    if (this.current < this.max) {
      this.current = Math.min(this.max, this.current + 1 / this.current);
      this.pump();
    }
  }

  onThrottle(now = Date.now()): void {
    if (now - this.lastDecrease < this.coolDownMs) return;
    this.lastDecrease = now;
    this.current = Math.max(this.min, this.current / 2);
  }

  private pump(): void {
    while (this.waiters.length > 0 && this.inFlight < this.limit) {
      this.inFlight++;
      this.waiters.shift()!();
    }
  }
}

/**
 * Posting one event to a list of connections, shared by the task fan-out (fanout.ts) and the
 * message path's inline fan-out (inline-fanout.ts): bounded, adaptive concurrency, a 410 removes
 * the connection, throttling and 5xx are retried with backoff, and what still failed is handed to
 * follow-up tasks that retry only those connections.
 */
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LIMITS } from '../shared/limits.js';
import { AdaptiveConcurrency } from './adaptive-concurrency.js';
import type { ConnectionRecord } from './model.js';
import type { ConnectionGateway, ConnectionStore, Member, TaskQueue } from './ports.js';
import { TransientDeliveryError } from './ports.js';
import { forEachLimit, withRetry } from './retry.js';
import type { FanoutTask, Task } from './tasks.js';

export interface DeliveryDeps {
  connections: Pick<ConnectionStore, 'removeStale'>;
  gateway: Pick<ConnectionGateway, 'post'>;
  tasks: TaskQueue;
  /** Most posts in flight per invocation (shared by every fan-out the invocation runs). */
  concurrency?: number;
  /** Told about each connection removed because it answered 410 (presence schedules its check). */
  onGone?: (record: ConnectionRecord) => Promise<void>;
}

export interface FanoutStats {
  key: string;
  delivered: number;
  gone: number;
  failed: number;
  /** Connections that answered a permanent error (not 410, not retryable): skipped, not retried. */
  dropped: number;
  continued: boolean;
  skipped: boolean;
  /** Part tasks enqueued for other invocations (pages after the first). */
  parts: number;
  /** Posts answered 429 (each retried or handed on, never dropped). */
  throttled: number;
}

export function newStats(key: string): FanoutStats {
  return { key, delivered: 0, gone: 0, failed: 0, dropped: 0, continued: false, skipped: false, parts: 0, throttled: 0 };
}

type PostResult = 'ok' | 'gone' | 'failed' | 'dropped';

/**
 * Short, stable idempotency key of a task derived from its parent (keys are at most 200 chars):
 * the same parent and detail always give the same key, so a redelivered task hands on its work
 * under the keys it used before, and the ledger lets each through once; generations never grow.
 */
export function derivedKey(parent: string, kind: 'p' | 'r' | 'c', detail: string): string {
  const head = parent.split(':')[0]!.slice(0, 64);
  const digest = createHash('sha1').update(`${parent}\n${kind}\n${detail}`).digest('base64url').slice(0, 16);
  return `${head}:${kind}:${digest}`;
}

export function targetsOf(task: FanoutTask, members: Member[]): Member[] {
  if (!task.exclude && !task.excludeAlso?.length) return members;
  const left = new Set(task.excludeAlso ?? []);
  if (task.exclude) left.add(task.exclude);
  return members.filter((m) => !left.has(m.connectionId));
}

export class Delivery {
  readonly concurrency: number;
  /** One limiter per instance, i.e. per Lambda sandbox: shared by every record it runs. */
  readonly limiter: AdaptiveConcurrency;

  constructor(private readonly deps: DeliveryDeps) {
    this.concurrency = deps.concurrency ?? LIMITS.fanoutConcurrency;
    this.limiter = new AdaptiveConcurrency(this.concurrency);
  }

  async sendTasks(tasks: Task[]): Promise<void> {
    if (tasks.length === 0) return;
    if (this.deps.tasks.sendBatch) {
      await this.deps.tasks.sendBatch(tasks);
      return;
    }
    for (const t of tasks) await this.deps.tasks.send(t);
  }

  async deliver(
    members: Member[],
    frameFor: (protocol: Member['protocol']) => string,
    stats: FanoutStats,
    failed: Member[],
    options: { deadline?: number | undefined; retries: number; handOnAfter?: number | undefined },
  ): Promise<void> {
    await forEachLimit(members, this.concurrency, async (member) => {
      // Past `handOnAfter` a post is not started: the connection goes to the follow-up task with
      // what failed, rather than be lost when the function times out mid-fan-out.
      if (options.handOnAfter !== undefined && Date.now() >= options.handOnAfter) {
        failed.push(member);
        return;
      }
      // One post started per turn of the event loop: the SDK's steps before the socket write are
      // all promise callbacks, so posts started in one go would each be signed before any of them
      // is sent, and the first recipient would wait for the last signature. Started one per turn,
      // each request is on the wire before the next is built; the CPU is the same.
      await nextTurn();
      const outcome = await this.post(member, frameFor(member.protocol), stats, options);
      if (outcome === 'ok') stats.delivered++;
      else if (outcome === 'gone') stats.gone++;
      else if (outcome === 'dropped') stats.dropped++;
      else failed.push(member);
    });
  }

  /** Only the connections that failed are retried, later, by new tasks: the rest got it already. */
  async handOn(task: FanoutTask, failed: Member[], stats: FanoutStats): Promise<void> {
    if (failed.length === 0) return;
    stats.failed = failed.length;
    const attempt = (task.attempt ?? 0) + 1;
    if (attempt > LIMITS.fanoutRetryGenerations) {
      // Still failing after every follow-up: fail the task itself, so SQS retries it and, after
      // the queue's max receive count, it lands in the DLQ where it can be inspected and redriven.
      throw new Error(`${failed.length} deliveries still failing after ${LIMITS.fanoutRetryGenerations} follow-up tasks`);
    }
    const retries: Task[] = [];
    for (let i = 0; i < failed.length; i += 1000) {
      const members = failed.slice(i, i + 1000);
      retries.push({
        kind: 'fanout',
        key: derivedKey(task.key, 'r', members.map((m) => m.connectionId).join(',')),
        audience: { type: 'connections', members },
        event: task.event,
        attempt,
      });
    }
    await this.sendTasks(retries);
  }

  /**
   * Posts one frame: 'ok', 'gone' (and the record is removed), 'failed' after retries, or 'dropped'
   * on a permanent error of that one connection (e.g. 400 for a malformed id): throwing would fail
   * the whole task, and SQS would redeliver it to every connection that already got it.
   */
  private async post(
    member: Member,
    frame: string,
    stats: FanoutStats,
    options: { deadline?: number | undefined; retries: number },
  ): Promise<PostResult> {
    const limiter = this.limiter;
    try {
      const outcome = await withRetry(
        async () => {
          await limiter.acquire();
          try {
            const result = await this.deps.gateway.post(member.connectionId, frame);
            limiter.onSuccess();
            return result;
          } catch (error) {
            if (error instanceof TransientDeliveryError && error.kind === 'throttled') {
              stats.throttled++;
              limiter.onThrottle();
            }
            throw error;
          } finally {
            limiter.release();
          }
        },
        {
          retries: options.retries,
          baseMs: LIMITS.postRetryBaseMs,
          maxMs: LIMITS.postRetryMaxMs,
          retryable: (error) => error instanceof TransientDeliveryError,
          deadline: options.deadline,
        },
      );
      if (outcome === 'gone') {
        // A connection answers 410 until its $connect has returned: only records older than the
        // grace period are stale, so a client connecting during this fan-out keeps its record.
        const cutoff = new Date(Date.now() - LIMITS.staleGraceMs).toISOString();
        const removed = await this.deps.connections.removeStale(member.connectionId, cutoff).catch(() => undefined);
        if (removed && this.deps.onGone) await this.deps.onGone(removed).catch(() => undefined);
        return 'gone';
      }
      return 'ok';
    } catch (error) {
      if (error instanceof TransientDeliveryError) return 'failed';
      return 'dropped';
    }
  }
}

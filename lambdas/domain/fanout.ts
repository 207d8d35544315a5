/**
 * Fan-out: deliver one server event to a room, to everyone, or to a list of connections. Reads
 * connections page by page (Query, never Scan), posts with bounded concurrency, removes a
 * connection as soon as the gateway says it is gone (410), retries throttling with backoff, and
 * hands whatever it could not finish (time running out, retries exhausted) to a follow-up task so
 * nothing is lost and nothing already delivered is sent again.
 */
import { LIMITS } from '../shared/limits.js';
import { encodeForProtocols } from '../protocol/codec.js';
import type { ConnectionGateway, ConnectionStore, Member, MemberPage, TaskLedger, TaskQueue } from './ports.js';
import { TransientDeliveryError } from './ports.js';
import { forEachLimit, withRetry } from './retry.js';
import type { FanoutTask } from './tasks.js';

export interface FanoutDeps {
  connections: ConnectionStore;
  gateway: ConnectionGateway;
  tasks: TaskQueue;
  ledger: TaskLedger;
  concurrency?: number;
  pageSize?: number;
  /** Observability hook (metrics, logs); optional. */
  onStats?: (stats: FanoutStats) => void;
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
}

export interface FanoutRunOptions {
  /** Epoch ms after which no new page is started (the Lambda deadline minus a margin). */
  deadline?: number;
  /** True when SQS has delivered this task before: check the ledger first. */
  redelivered?: boolean;
}

export class FanoutService {
  private readonly concurrency: number;
  private readonly pageSize: number;

  constructor(private readonly deps: FanoutDeps) {
    this.concurrency = deps.concurrency ?? LIMITS.fanoutConcurrency;
    this.pageSize = deps.pageSize ?? LIMITS.fanoutPageSize;
  }

  async run(task: FanoutTask, options: FanoutRunOptions = {}): Promise<FanoutStats> {
    const stats: FanoutStats = { key: task.key, delivered: 0, gone: 0, failed: 0, dropped: 0, continued: false, skipped: false };
    if (options.redelivered && (await this.deps.ledger.isDone(task.key))) {
      stats.skipped = true;
      this.deps.onStats?.(stats);
      return stats;
    }
    const frameFor = encodeForProtocols(task.event);
    const failed: Member[] = [];

    const deliverPage = async (members: Member[]) => {
      const targets = task.exclude ? members.filter((m) => m.connectionId !== task.exclude) : members;
      await forEachLimit(targets, this.concurrency, async (member) => {
        const outcome = await this.post(member, frameFor(member.protocol), options.deadline);
        if (outcome === 'ok') stats.delivered++;
        else if (outcome === 'gone') stats.gone++;
        else if (outcome === 'dropped') stats.dropped++;
        else failed.push(member);
      });
    };
    const outOfTime = () => options.deadline !== undefined && Date.now() >= options.deadline;

    const audience = task.audience;
    if (audience.type === 'connections') {
      await deliverPage(audience.members);
    } else if (audience.type === 'room') {
      let cursor = task.cursor?.page;
      do {
        if (outOfTime()) {
          await this.continueLater(task, { page: cursor }, stats);
          break;
        }
        const page: MemberPage = await this.deps.connections.listRoom(audience.room, cursor, this.pageSize);
        await deliverPage(page.members);
        cursor = page.cursor;
      } while (cursor);
    } else {
      // Every connection: the broadcast shards, each read page by page.
      const firstShard = task.cursor?.shard ?? 0;
      let cursor = task.cursor?.page;
      shards: for (let shard = firstShard; shard < this.deps.connections.shardCount; shard++) {
        do {
          if (outOfTime()) {
            await this.continueLater(task, { shard, page: cursor }, stats);
            break shards;
          }
          const page = await this.deps.connections.listShard(shard, cursor, this.pageSize);
          await deliverPage(page.members);
          cursor = page.cursor;
        } while (cursor);
        cursor = undefined;
      }
    }

    if (failed.length > 0) {
      stats.failed = failed.length;
      // Only the connections that failed are retried, later, by a new task: the rest got it already.
      for (let i = 0; i < failed.length; i += 1000) {
        await this.deps.tasks.send({
          kind: 'fanout',
          key: `${task.key}:retry:${Date.now()}:${i}`,
          audience: { type: 'connections', members: failed.slice(i, i + 1000) },
          event: task.event,
        });
      }
    }
    await this.deps.ledger.markDone(task.key);
    this.deps.onStats?.(stats);
    return stats;
  }

  private async continueLater(task: FanoutTask, cursor: { shard?: number; page?: string | undefined }, stats: FanoutStats) {
    stats.continued = true;
    const next: FanoutTask = { ...task, key: `${task.key}:cont:${cursor.shard ?? 0}:${cursor.page ?? ''}`.slice(0, 200) };
    next.cursor = cursor.shard === undefined ? {} : { shard: cursor.shard };
    if (cursor.page !== undefined) next.cursor.page = cursor.page;
    await this.deps.tasks.send(next);
  }

  /**
   * Posts one frame: 'ok', 'gone' (and the record is removed), 'failed' after retries, or 'dropped'
   * on a permanent error of that one connection (e.g. 400 for a malformed id): throwing would fail
   * the whole task, and SQS would redeliver it to every connection that already got it.
   */
  private async post(member: Member, frame: string, deadline?: number): Promise<'ok' | 'gone' | 'failed' | 'dropped'> {
    try {
      const outcome = await withRetry(() => this.deps.gateway.post(member.connectionId, frame), {
        retries: LIMITS.postRetries,
        baseMs: LIMITS.postRetryBaseMs,
        maxMs: LIMITS.postRetryMaxMs,
        retryable: (error) => error instanceof TransientDeliveryError,
        deadline,
      });
      if (outcome === 'gone') {
        // A connection answers 410 until its $connect has returned: only records older than the
        // grace period are stale, so a client connecting during this fan-out keeps its record.
        const cutoff = new Date(Date.now() - LIMITS.staleGraceMs).toISOString();
        await this.deps.connections.removeStale(member.connectionId, cutoff).catch(() => undefined);
        return 'gone';
      }
      return 'ok';
    } catch (error) {
      if (error instanceof TransientDeliveryError) return 'failed';
      return 'dropped';
    }
  }
}

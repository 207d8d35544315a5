/**
 * Fan-out: deliver one server event to a room, to everyone, or to a list of connections. Reads
 * connections page by page (Query, never Scan), posts with bounded, adaptive concurrency, removes a
 * connection as soon as the gateway says it is gone (410), retries throttling with backoff, and
 * hands whatever it could not finish (time running out, retries exhausted) to a follow-up task so
 * nothing is lost and nothing already delivered is sent again.
 *
 * Shape of a large fan-out (measured in bench/): the task that reads a room (or every shard, for a broadcast)
 * delivers the first page itself and turns every further page into a part task (an explicit list
 * of at most `partSize` connections, sent with SendMessageBatch), so the pages are posted by
 * parallel invocations while the reader is still reading. Small rooms skip the queue altogether:
 * the message path delivers them inline (`deliverInline`) and enqueues only what failed.
 *
 * Throttling: every invocation shares one `AdaptiveConcurrency` over all the posts it makes (all
 * records of its batch): it halves the number of posts in flight when API Gateway answers 429 and
 * grows it back by one per window of successes (AIMD), so parallel invocations settle near the
 * account's PostToConnection rate instead of hammering it; a throttled post is retried with
 * backoff and, after its retries, handed to a follow-up task: a 429 never loses a message.
 */
import { createHash } from 'node:crypto';
import { LIMITS } from '../shared/limits.js';
import { encodeForProtocols } from '../protocol/codec.js';
import type { ConnectionGateway, ConnectionStore, Member, MemberPage, TaskLedger, TaskQueue } from './ports.js';
import { TransientDeliveryError } from './ports.js';
import { sleep as defaultSleep, forEachLimit, withRetry } from './retry.js';
import type { FanoutTask, Task } from './tasks.js';

export interface FanoutDeps {
  connections: ConnectionStore;
  gateway: ConnectionGateway;
  tasks: TaskQueue;
  ledger: TaskLedger;
  /** Most posts in flight per invocation (shared by every fan-out the invocation runs). */
  concurrency?: number;
  /** Connections per Query page. */
  pageSize?: number;
  /** Connections the reading invocation delivers itself, and per part task (LIMITS.fanoutPartSize by default). */
  partSize?: number;
  /** Largest room the message path delivers inline (LIMITS.inlineFanoutMaxMembers by default). */
  inlineMaxMembers?: number;
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
  /** Part tasks enqueued for other invocations (pages after the first). */
  parts: number;
  /** Posts answered 429 (each retried or handed on, never dropped). */
  throttled: number;
}

export interface FanoutRunOptions {
  /** Epoch ms after which no new page is started (the Lambda deadline minus a margin). */
  deadline?: number;
}

type PostOutcome = 'ok' | 'gone' | 'failed' | 'dropped';

/**
 * Concurrency limit with additive increase and multiplicative decrease: `acquire` waits for a
 * slot, `onThrottle` halves the limit (at most once per `coolDownMs`, so a burst of 429s from one
 * window counts once), `onSuccess` adds one slot per `limit` successes.
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

/**
 * Short, stable idempotency key of a task derived from its parent (keys are at most 200 chars):
 * the same parent and detail always give the same key, so a redelivered task hands on its work
 * under the keys it used before, and the ledger lets each through once; generations never grow.
 */
function derivedKey(parent: string, kind: 'p' | 'r' | 'c', detail: string): string {
  const head = parent.split(':')[0]!.slice(0, 64);
  const digest = createHash('sha1').update(`${parent}\n${kind}\n${detail}`).digest('base64url').slice(0, 16);
  return `${head}:${kind}:${digest}`;
}

function partKey(parent: string, part: number): string {
  return derivedKey(parent, 'p', String(part));
}

/** Largest SendMessageBatch: 10 entries and 256 KB in total (with room for the attributes). */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 240 * 1024;

export class FanoutService {
  private readonly concurrency: number;
  private readonly pageSize: number;
  private readonly partSize: number;
  private readonly inlineMax: number;
  /** One limiter per service instance, i.e. per Lambda sandbox: shared by every record it runs. */
  readonly limiter: AdaptiveConcurrency;

  constructor(private readonly deps: FanoutDeps) {
    this.concurrency = deps.concurrency ?? LIMITS.fanoutConcurrency;
    this.pageSize = deps.pageSize ?? LIMITS.fanoutPageSize;
    this.partSize = deps.partSize ?? LIMITS.fanoutPartSize;
    this.inlineMax = deps.inlineMaxMembers ?? LIMITS.inlineFanoutMaxMembers;
    this.limiter = new AdaptiveConcurrency(this.concurrency);
  }

  /** Whether the message path should try `deliverInline` for a room fan-out. */
  get inlineEnabled(): boolean {
    return this.inlineMax > 0;
  }

  async run(task: FanoutTask, options: FanoutRunOptions = {}): Promise<FanoutStats> {
    const stats = newStats(task.key);
    // Every task checks the ledger (one small read): SQS may hold two copies of one task, each
    // with receive count 1, when SendMessage is retried after its answer was lost, and a reader
    // that is redelivered after a crash enqueues its parts again under the same keys.
    if (await this.deps.ledger.isDone(task.key)) {
      stats.skipped = true;
      this.deps.onStats?.(stats);
      return stats;
    }
    const frameFor = encodeForProtocols(task.event);
    const failed: Member[] = [];
    const deliver = (members: Member[]) => this.deliver(members, frameFor, stats, failed, { deadline: options.deadline, retries: LIMITS.postRetries });

    const audience = task.audience;
    if (audience.type === 'connections') {
      await deliver(this.targets(task, audience.members));
    } else {
      await this.readAndSplit(task, stats, deliver, options);
    }

    await this.handOn(task, failed, stats);
    await this.deps.ledger.markDone(task.key);
    this.deps.onStats?.(stats);
    return stats;
  }

  /**
   * The message path's fan-out for a small room: one Query of at most `inlineMaxMembers`, one post
   * attempt per connection, no ledger (there is no task to redeliver). What could not be delivered
   * goes to a follow-up task; a room larger than one inline page is continued by a task from the
   * cursor. Returns undefined, having done nothing, when the room cannot be read: the caller then
   * enqueues the whole fan-out.
   */
  async deliverInline(task: FanoutTask): Promise<FanoutStats | undefined> {
    if (task.audience.type !== 'room') return undefined;
    let page: MemberPage;
    try {
      page = await this.deps.connections.listRoom(task.audience.room, task.cursor?.page, this.inlineMax);
    } catch {
      return undefined;
    }
    const stats = newStats(task.key);
    const failed: Member[] = [];
    const frameFor = encodeForProtocols(task.event);
    await this.deliver(this.targets(task, page.members), frameFor, stats, failed, { retries: 0 });
    if (page.cursor) {
      // Larger than one inline page: a task reads (and splits) the rest.
      stats.continued = true;
      await this.deps.tasks.send({ ...task, key: `${task.key}:rest`, cursor: { page: page.cursor } });
    }
    await this.handOn(task, failed, stats);
    this.deps.onStats?.(stats);
    return stats;
  }

  private targets(task: FanoutTask, members: Member[]): Member[] {
    return task.exclude ? members.filter((m) => m.connectionId !== task.exclude) : members;
  }

  /**
   * Reads the audience page by page. The first `partSize` connections are delivered here, while
   * reading goes on; every further connection goes into part tasks of `partSize`, sent in batches,
   * which parallel invocations deliver.
   */
  private async readAndSplit(
    task: FanoutTask,
    stats: FanoutStats,
    deliver: (members: Member[]) => Promise<void>,
    options: FanoutRunOptions,
  ): Promise<void> {
    const local: Promise<void>[] = [];
    let localCount = 0;
    let buffer: Member[] = [];
    let pending: FanoutTask[] = [];
    let pendingBytes = 0;
    const outOfTime = () => options.deadline !== undefined && Date.now() >= options.deadline;

    const flush = async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      pendingBytes = 0;
      await this.sendTasks(batch);
    };
    const addPart = async (members: Member[]) => {
      const part: FanoutTask = {
        kind: 'fanout',
        key: partKey(task.key, stats.parts),
        audience: { type: 'connections', members },
        event: task.event,
      };
      stats.parts++;
      const bytes = Buffer.byteLength(JSON.stringify(part));
      if (pending.length >= BATCH_ENTRIES || (pending.length > 0 && pendingBytes + bytes > BATCH_BYTES)) await flush();
      pending.push(part);
      pendingBytes += bytes;
    };
    const take = async (members: Member[]) => {
      let rest = this.targets(task, members);
      if (localCount < this.partSize) {
        const mine = rest.slice(0, this.partSize - localCount);
        rest = rest.slice(mine.length);
        localCount += mine.length;
        if (mine.length > 0) local.push(deliver(mine));
      }
      buffer.push(...rest);
      while (buffer.length >= this.partSize) {
        await addPart(buffer.slice(0, this.partSize));
        buffer = buffer.slice(this.partSize);
      }
    };

    try {
      const audience = task.audience;
      if (audience.type === 'room') {
        let cursor = task.cursor?.page;
        do {
          if (outOfTime()) {
            await this.continueLater(task, { page: cursor }, stats);
            break;
          }
          const page: MemberPage = await this.deps.connections.listRoom(audience.room, cursor, this.pageSize);
          await take(page.members);
          cursor = page.cursor;
        } while (cursor);
      } else if (audience.type === 'all') {
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
            await take(page.members);
            cursor = page.cursor;
          } while (cursor);
          cursor = undefined;
        }
      }
      if (buffer.length > 0) await addPart(buffer);
      buffer = [];
      await flush();
    } finally {
      await Promise.all(local);
    }
  }

  private async sendTasks(tasks: Task[]): Promise<void> {
    if (tasks.length === 0) return;
    if (this.deps.tasks.sendBatch) {
      await this.deps.tasks.sendBatch(tasks);
      return;
    }
    for (const t of tasks) await this.deps.tasks.send(t);
  }

  /** Only the connections that failed are retried, later, by new tasks: the rest got it already. */
  private async handOn(task: FanoutTask, failed: Member[], stats: FanoutStats): Promise<void> {
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

  private async continueLater(task: FanoutTask, cursor: { shard?: number; page?: string | undefined }, stats: FanoutStats) {
    stats.continued = true;
    const next: FanoutTask = { ...task, key: derivedKey(task.key, 'c', `${cursor.shard ?? 0}:${cursor.page ?? ''}`) };
    next.cursor = cursor.shard === undefined ? {} : { shard: cursor.shard };
    if (cursor.page !== undefined) next.cursor.page = cursor.page;
    await this.deps.tasks.send(next);
  }

  private async deliver(
    members: Member[],
    frameFor: (protocol: Member['protocol']) => string,
    stats: FanoutStats,
    failed: Member[],
    options: { deadline?: number; retries: number },
  ): Promise<void> {
    await forEachLimit(members, this.concurrency, async (member) => {
      const outcome = await this.post(member, frameFor(member.protocol), stats, options);
      if (outcome === 'ok') stats.delivered++;
      else if (outcome === 'gone') stats.gone++;
      else if (outcome === 'dropped') stats.dropped++;
      else failed.push(member);
    });
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
    options: { deadline?: number; retries: number },
  ): Promise<PostOutcome> {
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
          sleep: defaultSleep,
        },
      );
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

function newStats(key: string): FanoutStats {
  return { key, delivered: 0, gone: 0, failed: 0, dropped: 0, continued: false, skipped: false, parts: 0, throttled: 0 };
}

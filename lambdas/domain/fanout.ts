/**
 * Fan-out from a task: deliver one server event to a room, to everyone, or to a list of
 * connections. Reads connections page by page (Query, never Scan) and hands whatever it could not
 * finish (time running out, retries exhausted) to a follow-up task, so nothing is lost and nothing
 * already delivered is sent again. Posting itself is delivery.ts.
 *
 * Shape of a large fan-out (measured in bench/): the task that reads a room (or every shard, for a
 * broadcast) delivers the first `partSize` connections itself and turns the rest into part tasks
 * (explicit lists, sent with SendMessageBatch), so parallel invocations post while it still reads.
 */
import { LIMITS } from '../shared/limits.js';
import { encodeForProtocols } from '../protocol/codec.js';
import { Delivery, type DeliveryDeps, derivedKey, type FanoutStats, newStats, targetsOf } from './delivery.js';
import type { ConnectionStore, Member, MemberPage, TaskLedger } from './ports.js';
import { capped, overCap } from './inline-fanout.js';
import type { FanoutTask } from './tasks.js';

export type { FanoutStats } from './delivery.js';

export interface FanoutDeps extends DeliveryDeps {
  connections: Pick<ConnectionStore, 'listRoom' | 'listShard' | 'removeStale' | 'shardCount'>;
  ledger: TaskLedger;
  /** Connections per Query page. */
  pageSize?: number;
  /** Connections the reading invocation delivers itself, and per part task (LIMITS.fanoutPartSize by default). */
  partSize?: number;
  /** Observability hook (metrics, logs); optional. */
  onStats?: (stats: FanoutStats) => void;
}

export interface FanoutRunOptions {
  /** Epoch ms after which no new page is started (the Lambda deadline minus a margin). */
  deadline?: number;
}

/** Largest SendMessageBatch: 10 entries and 256 KB in total (with room for the attributes). */
const BATCH_ENTRIES = 10;
const BATCH_BYTES = 240 * 1024;

export class FanoutService {
  private readonly pageSize: number;
  private readonly partSize: number;
  private readonly delivery: Delivery;

  constructor(private readonly deps: FanoutDeps) {
    this.pageSize = deps.pageSize ?? LIMITS.fanoutPageSize;
    this.partSize = deps.partSize ?? LIMITS.fanoutPartSize;
    this.delivery = new Delivery(deps);
  }

  /** The invocation's concurrency limiter (tests watch it adapt). */
  get limiter() {
    return this.delivery.limiter;
  }

  async run(task: FanoutTask, options: FanoutRunOptions = {}): Promise<FanoutStats> {
    const stats = newStats(task.key);
    const audience = task.audience;
    // Every task checks the ledger (one small read): SQS may hold two copies of one task, each
    // with receive count 1, when SendMessage is retried after its answer was lost, and a reader
    // that is redelivered after a crash enqueues its parts again under the same keys. A room's
    // first page is read at the same time (one round trip, not two); a task found done (a
    // duplicate: rare) has cost that one read.
    const firstRead = this.firstPage(task, options);
    const [done, first] = await Promise.allSettled([this.deps.ledger.isDone(task.key), firstRead]);
    if (done.status === 'rejected') throw done.reason;
    if (done.value) {
      stats.skipped = true;
      this.deps.onStats?.(stats);
      return stats;
    }
    if (first.status === 'rejected') throw first.reason;
    const frameFor = encodeForProtocols(task.event);
    const failed: Member[] = [];
    const deliver = (members: Member[]) =>
      this.delivery.deliver(members, frameFor, stats, failed, { deadline: options.deadline, retries: LIMITS.postRetries });

    if (audience.type === 'connections') {
      await deliver(targetsOf(task, audience.members));
    } else if (capped(task)) {
      const page = first.value!;
      if (!overCap(task, page)) await deliver(targetsOf(task, page.members));
    } else {
      await this.readAndSplit(task, stats, deliver, options, first.value);
    }

    await this.delivery.handOn(task, failed, stats);
    await this.deps.ledger.markDone(task.key);
    this.deps.onStats?.(stats);
    return stats;
  }

  /**
   * A room task's first page: for presence and typing at most cap + 1 connections, which decides
   * (small rooms are delivered from it, larger ones get nothing); none when the invocation is out
   * of time already (readAndSplit then hands the task on) or the audience is not a room.
   */
  private firstPage(task: FanoutTask, options: FanoutRunOptions): Promise<MemberPage> | undefined {
    const audience = task.audience;
    if (audience.type !== 'room') return undefined;
    if (capped(task)) return this.deps.connections.listRoom(audience.room, undefined, task.maxAudience + 1);
    if (options.deadline !== undefined && Date.now() >= options.deadline) return undefined;
    return this.deps.connections.listRoom(audience.room, task.cursor?.page, this.pageSize);
  }

  /** The audience's pages, from the task's cursor on; stops (and says where) when out of time. */
  private async *pages(
    task: FanoutTask,
    outOfTime: () => boolean,
    firstPage?: MemberPage,
  ): AsyncGenerator<MemberPage | { stopAt: { shard?: number; page?: string | undefined } }> {
    const audience = task.audience;
    if (audience.type === 'room') {
      let cursor = task.cursor?.page;
      let read = firstPage;
      do {
        if (!read && outOfTime()) return yield { stopAt: { page: cursor } };
        const page = read ?? (await this.deps.connections.listRoom(audience.room, cursor, this.pageSize));
        read = undefined;
        yield page;
        cursor = page.cursor;
      } while (cursor);
    } else if (audience.type === 'all') {
      // Every connection: the broadcast shards, each read page by page.
      let cursor = task.cursor?.page;
      for (let shard = task.cursor?.shard ?? 0; shard < this.deps.connections.shardCount; shard++) {
        do {
          if (outOfTime()) return yield { stopAt: { shard, page: cursor } };
          const page = await this.deps.connections.listShard(shard, cursor, this.pageSize);
          yield page;
          cursor = page.cursor;
        } while (cursor);
        cursor = undefined;
      }
    }
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
    firstPage?: MemberPage,
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
      await this.delivery.sendTasks(batch);
    };
    const addPart = async (members: Member[]) => {
      const part: FanoutTask = {
        kind: 'fanout',
        key: derivedKey(task.key, 'p', String(stats.parts)),
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
      let rest = targetsOf(task, members);
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
      for await (const page of this.pages(task, outOfTime, firstPage)) {
        if ('stopAt' in page) await this.continueLater(task, page.stopAt, stats);
        else await take(page.members);
      }
      if (buffer.length > 0) await addPart(buffer);
      buffer = [];
      await flush();
    } finally {
      await Promise.all(local);
    }
  }

  private async continueLater(task: FanoutTask, cursor: { shard?: number; page?: string | undefined }, stats: FanoutStats) {
    stats.continued = true;
    const next: FanoutTask = { ...task, key: derivedKey(task.key, 'c', `${cursor.shard ?? 0}:${cursor.page ?? ''}`) };
    next.cursor = cursor.shard === undefined ? {} : { shard: cursor.shard };
    if (cursor.page !== undefined) next.cursor.page = cursor.page;
    await this.deps.tasks.send(next);
  }
}

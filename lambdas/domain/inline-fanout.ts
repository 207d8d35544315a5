/**
 * The message path's fan-out for a small room (LIMITS.inlineFanoutMaxMembers): one Query, one post
 * attempt per connection, no ledger (there is no task to redeliver), and only what failed goes to
 * a follow-up task. It skips the queue hop, which is most of the cost and latency of a small room
 * (bench/).
 */
import { encodeForProtocols } from '../protocol/codec.js';
import { Delivery, type DeliveryDeps, type FanoutStats, newStats, targetsOf } from './delivery.js';
import type { ConnectionStore, Member, MemberPage } from './ports.js';
import type { FanoutTask } from './tasks.js';

export interface InlineFanoutDeps extends DeliveryDeps {
  connections: Pick<ConnectionStore, 'listRoom' | 'removeStale'>;
  /** Largest room delivered inline; 0 turns inline delivery off. */
  maxMembers: number;
  onStats?: (stats: FanoutStats) => void;
}

export class InlineFanout {
  private readonly delivery: Delivery;

  constructor(private readonly deps: InlineFanoutDeps) {
    this.delivery = new Delivery(deps);
  }

  /**
   * Delivers a room fan-out inline. A room larger than one inline page is continued by a task from
   * the cursor. Returns undefined, having done nothing, when the room cannot be read: the caller
   * then enqueues the whole fan-out.
   */
  async deliver(task: FanoutTask, handOnAfter?: number): Promise<FanoutStats | undefined> {
    const page = await this.read(task);
    return page ? this.deliverRead(task, page, handOnAfter) : undefined;
  }

  /**
   * The first step of `deliver`: the room's first page, or undefined (not a room fan-out, inline
   * off, or the room cannot be read). Never rejects, so a caller can start it early (the message
   * path reads the room while the message is being stored).
   */
  async read(task: FanoutTask): Promise<MemberPage | undefined> {
    if (task.audience.type !== 'room' || this.deps.maxMembers <= 0) return undefined;
    try {
      return await this.deps.connections.listRoom(task.audience.room, task.cursor?.page, capped(task) ? task.maxAudience + 1 : this.deps.maxMembers);
    } catch {
      return undefined;
    }
  }

  /**
   * The rest of `deliver`, from the page `read` returned for the same task. Posts not started by
   * `handOnAfter` (epoch ms: the invocation's deadline less a margin) go to a follow-up task.
   */
  async deliverRead(task: FanoutTask, page: MemberPage, handOnAfter?: number): Promise<FanoutStats> {
    const stats = newStats(task.key);
    if (capped(task) && overCap(task, page)) {
      this.deps.onStats?.(stats);
      return stats;
    }
    const failed: Member[] = [];
    await this.delivery.deliver(targetsOf(task, page.members), encodeForProtocols(task.event), stats, failed, { retries: 0, handOnAfter });
    if (page.cursor) {
      stats.continued = true;
      await this.deps.tasks.send({ ...task, key: `${task.key}:rest`, cursor: { page: page.cursor } });
    }
    await this.delivery.handOn(task, failed, stats);
    this.deps.onStats?.(stats);
    return stats;
  }
}

export type CappedTask = FanoutTask & { maxAudience: number; audience: { type: 'room'; room: string } };

/** A task whose delivery depends on the room's size (presence, typing). */
export function capped(task: FanoutTask): task is CappedTask {
  return task.audience.type === 'room' && task.maxAudience !== undefined;
}

/** The first page of a capped task's room (read with a limit of cap + 1) says the room is larger. */
export function overCap(task: CappedTask, firstPage: MemberPage): boolean {
  return firstPage.members.length > task.maxAudience || firstPage.cursor !== undefined;
}

/**
 * Cutting connections off a room: a removed member's, or anyone who got into a room between its
 * in-use check and its creation. They leave the room (so the byRoom fan-out no longer finds them)
 * and get `removed {"room"}`. An SSE stream relays through such a connection, so it sees `removed`
 * too and ends. Idempotent: a connection already out of the room is skipped (nothing posted twice),
 * so the task queue may run it again (lambdas/handlers/tasks.ts).
 */
import { LIMITS } from '../shared/limits.js';
import { codecFor } from '../protocol/codec.js';
import type { ConnectionRecord } from './model.js';
import type { ConnectionGateway, ConnectionStore } from './ports.js';
import { postWithRetry } from './post.js';

/** Connection records as the room's removal needs them. */
export interface RoomConnections {
  /** The records of these connections (missing ones left out). */
  getMany(connectionIds: string[]): Promise<ConnectionRecord[]>;
  /** Takes the connection out of `room` if it is still in it; true when it was. */
  leaveRoom(connectionId: string, room: string): Promise<boolean>;
}

export interface CutOffDeps {
  connections: Pick<ConnectionStore, 'listRoom'>;
  records: RoomConnections;
  gateway: Pick<ConnectionGateway, 'post'>;
}

/** Which connections of the room leave it. */
export type LeavesRoom = (record: ConnectionRecord) => boolean;

export interface CutOffOutcome {
  /** Connections taken out of the room by this pass. */
  count: number;
  /** Connections this pass could not take out (their write failed): run it again. */
  failed: number;
  /** The users whose connections left (presence schedules their check). */
  users: string[];
}

export const removedEvent = (room: string) => ({ event: 'removed', data: { room } });

/**
 * One pass over the room. A failed write of one connection does not stop the others; a failed read
 * of the room (its index page or the records) throws, and the caller runs the pass again.
 */
export async function cutOff(deps: CutOffDeps, room: string, leaves: LeavesRoom): Promise<CutOffOutcome> {
  let cursor: string | undefined;
  const outcome: CutOffOutcome = { count: 0, failed: 0, users: [] };
  do {
    const page = await deps.connections.listRoom(room, cursor, LIMITS.fanoutPageSize);
    cursor = page.cursor;
    const records = await deps.records.getMany(page.members.map((m) => m.connectionId));
    for (const record of records) {
      // Whether it is still in the room is the conditional write's to decide (the read may be older).
      if (!leaves(record)) continue;
      let left: boolean;
      try {
        left = await deps.records.leaveRoom(record.connectionId, room);
      } catch {
        outcome.failed++;
        continue;
      }
      if (!left) continue;
      outcome.count++;
      if (!outcome.users.includes(record.userId)) outcome.users.push(record.userId);
      // Best effort: the connection no longer receives the room whether or not this arrives.
      await postWithRetry(deps.gateway, record.connectionId, codecFor(record.protocol).encode(removedEvent(room))).catch(() => undefined);
    }
  } while (cursor);
  return outcome;
}

/**
 * Cutting a removed member off a room: their connections in it leave the room (so the byRoom
 * fan-out no longer finds them) and get `removed {"room"}`. An SSE stream relays through such a
 * connection, so it sees `removed` too and ends.
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

export const removedEvent = (room: string) => ({ event: 'removed', data: { room } });

/** Returns how many connections were cut off. */
export async function cutOff(deps: CutOffDeps, room: string, userId: string): Promise<number> {
  let cursor: string | undefined;
  let count = 0;
  do {
    const page = await deps.connections.listRoom(room, cursor, LIMITS.fanoutPageSize);
    cursor = page.cursor;
    const records = await deps.records.getMany(page.members.map((m) => m.connectionId));
    for (const record of records) {
      if (record.userId !== userId || !(await deps.records.leaveRoom(record.connectionId, room))) continue;
      count++;
      // Best effort: the connection no longer receives the room whether or not this arrives.
      await postWithRetry(deps.gateway, record.connectionId, codecFor(record.protocol).encode(removedEvent(room))).catch(() => undefined);
    }
  } while (cursor);
  return count;
}

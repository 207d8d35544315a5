/**
 * Who may use a room. Every entry point that names a room (connect, join, send, history, resume,
 * SSE, presence, typing, uploads) asks this one port, so a private room is refused the same way
 * everywhere: a `forbidden` error that says nothing about whether the room exists.
 */
import type { Identity } from './model.js';

/**
 * Why a caller was let in. `settled`: nothing another request does can change the answer (an admin,
 * a configured public room, a room with a public record). `revocable`: it rests on a membership a
 * removal may delete, or on the absence of a record a creation may add, at the same moment.
 */
export type Admission = 'settled' | 'revocable';

export interface RoomAccess {
  /** Resolves when `identity` may read and write `room`; throws `ChatError('forbidden')` otherwise. */
  assertMember(identity: Identity, room: string): Promise<Admission | undefined>;
}

/** Every room is public: the behaviour before private rooms, and the default where none are wired. */
export const openRooms: RoomAccess = {
  async assertMember() {
    return undefined;
  },
};

/**
 * Puts a connection into a room (`enter`: the connection record's write) so that a removal or a
 * creation racing it cannot leave it there. Those cut off the connections they find in the room
 * after their own write; an entry checked before that write but landing after the cut-off read
 * would be missed. So a revocable admission is checked again (strongly consistent) once the
 * connection is in: refused now means the removal or creation came first, and `undo` takes the
 * connection out again before the refusal is answered. Either the re-check sees the other's write,
 * or the other's cut-off sees this connection.
 */
export async function admitInto<T>(
  access: RoomAccess,
  identity: Identity,
  room: string,
  enter: () => Promise<T>,
  undo: () => Promise<unknown>,
): Promise<T> {
  const admission = await access.assertMember(identity, room);
  const entered = await enter();
  if (admission !== 'revocable') return entered;
  try {
    await access.assertMember(identity, room);
  } catch (error) {
    await undo();
    throw error;
  }
  return entered;
}

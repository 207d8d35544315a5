/**
 * Who may use a room. Every entry point that names a room (connect, join, send, history, resume,
 * SSE, presence, typing, uploads) asks this one port, so a private room is refused the same way
 * everywhere: a `forbidden` error that says nothing about whether the room exists.
 */
import type { Identity } from './model.js';

export interface RoomAccess {
  /** Resolves when `identity` may read and write `room`; throws `ChatError('forbidden')` otherwise. */
  assertMember(identity: Identity, room: string): Promise<void>;
}

/** Every room is public: the behaviour before private rooms, and the default where none are wired. */
export const openRooms: RoomAccess = {
  async assertMember() {},
};

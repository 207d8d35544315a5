/**
 * Typing indicators: `typing {"room"?, "state"}` reaches the room's other members as
 * `typing {"room", "user", "state", "expires_in_ms"?}`. Never stored. One per user and room every
 * LIMITS.typingIntervalMs, counted by a shared gate (Lambda instances share nothing); a refused
 * one is answered `rate_limited` with `retry_after_ms`, so a client knows to send its latest state
 * then. A `start` lapses after LIMITS.typingLapseMs unless another follows: the event carries
 * `expires_in_ms` and receivers (the client package, the page) drop it then.
 */
import { LIMITS } from '../shared/limits.js';
import { ChatError } from './errors.js';
import { ulid } from './ids.js';
import type { Identity, ServerEvent } from './model.js';
import type { Clock } from './ports.js';
import type { PresenceService } from './presence.js';
import type { RoomAccess } from './room-access.js';
import type { FanoutTask } from './tasks.js';

export type TypingState = 'start' | 'stop';

export interface TypingGate {
  /**
   * Lets one event of (room, user) through per `intervalMs`: true when this one passes, false when
   * another passed less than `intervalMs` before `nowMs`.
   */
  tryPass(room: string, userId: string, nowMs: number, intervalMs: number): Promise<boolean>;
}

export interface TypingDeps {
  gate: TypingGate;
  access: RoomAccess;
  presence: Pick<PresenceService, 'connectionsOf'>;
  publish: (task: FanoutTask) => Promise<void>;
  clock: Clock;
}

export function typingEvent(room: string, user: string, state: TypingState): ServerEvent {
  const data: Record<string, unknown> = { room, user, state };
  if (state === 'start') data.expires_in_ms = LIMITS.typingLapseMs;
  return { event: 'typing', data };
}

export class TypingService {
  constructor(private readonly deps: TypingDeps) {}

  /** Relays a typing state from `connectionId` to the other members of `room`. */
  async typing(identity: Identity, connectionId: string, room: string, state: TypingState): Promise<void> {
    await this.deps.access.assertMember(identity, room);
    const now = this.deps.clock.now();
    if (!(await this.deps.gate.tryPass(room, identity.userId, now, LIMITS.typingIntervalMs))) {
      throw new ChatError('rate_limited', `At most one typing event per room every ${LIMITS.typingIntervalMs / 1000} s`, {
        retry_after_ms: LIMITS.typingIntervalMs,
        // The refusal is not the answer to any other frame in flight (clients match replies in order).
        action: 'typing',
      });
    }
    // The sender's own tabs are left out: "alice is typing" is for the others.
    const own = await this.deps.presence.connectionsOf(room, identity.userId);
    const task: FanoutTask = {
      kind: 'fanout',
      key: ulid(now),
      audience: { type: 'room', room },
      event: typingEvent(room, identity.userId, state),
      exclude: connectionId,
      maxAudience: LIMITS.presenceBroadcastMaxConnections,
    };
    const also = own.filter((id) => id !== connectionId).slice(0, 100);
    if (also.length > 0) task.excludeAlso = also;
    await this.deps.publish(task);
  }
}

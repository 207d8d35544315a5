/**
 * Presence and typing parts the composition roots share: which store methods each use needs (so
 * each function is granted only those), and the scheduler of presence checks on the task queue.
 * Room access is a parameter of every builder, so wiring private rooms is one line per root.
 */
import { dynamoClient } from '../adapters/clients.js';
import { DynamoPresenceStore, DynamoTypingGate, PRESENCE_STORE_PERMISSIONS, TYPING_GATE_PERMISSIONS } from '../adapters/dynamo-presence.js';
import type { ConnectionRecord } from '../domain/model.js';
import type { TaskQueue } from '../domain/ports.js';
import { systemClock } from '../domain/ports.js';
import { type PresenceDeps, PresenceService, scheduleCheck } from '../domain/presence.js';
import type { RoomAccess } from '../domain/room-access.js';
import type { PresenceCheckTask } from '../domain/tasks.js';
import { TypingService } from '../domain/typing.js';
import type { AppConfig } from '../shared/config.js';
import { uses } from './wiring.js';

/** Entering a room (connect, join): the online transition. */
export const presenceEnter = uses(PRESENCE_STORE_PERMISSIONS, ['markOnline']);
/** Reading a room's members (and a user's own connections, which typing leaves out). */
export const presenceRead = uses(PRESENCE_STORE_PERMISSIONS, ['userConnections', 'roomConnections']);
/** The check after the grace period: the offline transition. */
export const presenceCheck = uses(PRESENCE_STORE_PERMISSIONS, ['userConnections', 'markOffline']);
export const typingGate = uses(TYPING_GATE_PERMISSIONS, ['tryPass']);

export const presenceStore = (config: AppConfig) => new DynamoPresenceStore(dynamoClient(), config.connectionsTable);
export const typingGateOf = (config: AppConfig) => typingGate.narrow(new DynamoTypingGate(dynamoClient(), config.connectionsTable));

/** Presence checks go to the task queue with the grace period as SQS DelaySeconds. */
export function checkScheduler(queue: Pick<TaskQueue, 'send'>): PresenceDeps['schedule'] {
  return (task: PresenceCheckTask, delaySeconds: number) => queue.send(task, { delaySeconds });
}

/** What a fan-out calls for a connection it removed on 410: the user may have left the room. */
export function onGoneOf(queue: Pick<TaskQueue, 'send'>, config: AppConfig): (record: ConnectionRecord) => Promise<void> {
  const schedule = checkScheduler(queue);
  return async (record) => {
    if (record.room) await scheduleCheck(schedule, config.presenceGraceSeconds, record.room, record.userId, Date.now());
  };
}

export interface PresenceWiring {
  config: AppConfig;
  queue: Pick<TaskQueue, 'send'>;
  publish: PresenceDeps['publish'];
  access: RoomAccess;
}

/** Presence of a function that lets connections enter, leave and read rooms (the WebSocket message function). */
export function buildPresence(w: PresenceWiring): PresenceService {
  const store = presenceStore(w.config);
  return new PresenceService({
    store: { ...presenceEnter.narrow(store), ...presenceRead.narrow(store) } as PresenceDeps['store'],
    access: w.access,
    publish: w.publish,
    schedule: checkScheduler(w.queue),
    clock: systemClock,
    graceSeconds: w.config.presenceGraceSeconds,
  });
}

export function buildTyping(w: PresenceWiring, presence: PresenceService): TypingService {
  return new TypingService({ gate: typingGateOf(w.config), access: w.access, presence, publish: w.publish, clock: systemClock });
}

/**
 * Composition root of the REST function: the message path (lambdas/roots/message-path.ts), so a
 * sender mixing REST (large media) and WebSocket sends is delivered the same way and in order.
 */
import { systemClock } from '../domain/ports.js';
import { PresenceService } from '../domain/presence.js';
import { loadConfig } from '../shared/config.js';
import { buildMessagePath, type MessagePathHooks, messagePathUses } from './message-path.js';
import { checkScheduler, presenceRead, presenceStore } from './presence.js';
import { buildRoomAccess, buildRoomService, roomAccessUses, roomServiceUses } from './rooms.js';
import { declareRoot } from './wiring.js';

export const httpDeclaration = declareRoot([...messagePathUses, ...roomAccessUses, ...roomServiceUses, presenceRead], 'identity');

export function buildHttpRoot(hooks: MessagePathHooks = {}) {
  const config = loadConfig();
  const path = buildMessagePath(config, hooks);
  const roomAccess = buildRoomAccess(config);
  const presence = new PresenceService({
    store: presenceRead.narrow(presenceStore(config)) as ConstructorParameters<typeof PresenceService>[0]['store'],
    access: roomAccess,
    clock: systemClock,
    schedule: checkScheduler(path.queue),
    graceSeconds: config.presenceGraceSeconds,
  });
  // A removed member's connections leave the room: `offline` follows the grace period.
  const rooms = buildRoomService(config, (room, userId) => presence.left(room, userId));
  return { sseUrl: config.sseUrl, ...path, roomAccess, rooms, presence };
}

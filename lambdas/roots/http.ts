/**
 * Composition root of the REST function: the message path (lambdas/roots/message-path.ts), so a
 * sender mixing REST (large media) and WebSocket sends is delivered the same way and in order.
 */
import { systemClock } from '../domain/ports.js';
import { PresenceService } from '../domain/presence.js';
import { openRooms } from '../domain/room-access.js';
import { loadConfig } from '../shared/config.js';
import { buildMessagePath, type MessagePathHooks, messagePathUses } from './message-path.js';
import { checkScheduler, presenceRead, presenceStore } from './presence.js';
import { declareRoot } from './wiring.js';

export const httpDeclaration = declareRoot([...messagePathUses, presenceRead], 'identity');

export function buildHttpRoot(hooks: MessagePathHooks = {}) {
  const config = loadConfig();
  const path = buildMessagePath(config, hooks);
  const presence = new PresenceService({
    store: presenceRead.narrow(presenceStore(config)) as ConstructorParameters<typeof PresenceService>[0]['store'],
    // Private rooms: the RoomAccess port goes here (openRooms: every room is public).
    access: openRooms,
    clock: systemClock,
    schedule: checkScheduler(path.queue),
    graceSeconds: config.presenceGraceSeconds,
  });
  return { sseUrl: config.sseUrl, ...path, presence };
}

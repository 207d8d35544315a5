/**
 * Composition root of the REST function: the message path (lambdas/roots/message-path.ts), so a
 * sender mixing REST (large media) and WebSocket sends is delivered the same way and in order.
 */
import { loadConfig } from '../shared/config.js';
import { buildMessagePath, type MessagePathHooks, messagePathUses } from './message-path.js';
import { buildRoomAccess, buildRoomService, roomAccessUses, roomServiceUses } from './rooms.js';
import { declareRoot } from './wiring.js';

export const httpDeclaration = declareRoot([...messagePathUses, ...roomAccessUses, ...roomServiceUses], 'identity');

export function buildHttpRoot(hooks: MessagePathHooks = {}) {
  const config = loadConfig();
  return { sseUrl: config.sseUrl, ...buildMessagePath(config, hooks), roomAccess: buildRoomAccess(config), rooms: buildRoomService(config) };
}

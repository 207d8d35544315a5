/**
 * Composition root of the REST function: the message path (lambdas/roots/message-path.ts), so a
 * sender mixing REST (large media) and WebSocket sends is delivered the same way and in order.
 */
import { dynamoClient } from '../adapters/clients.js';
import { DynamoUploadRecords, UPLOAD_RECORD_PERMISSIONS } from '../adapters/dynamo-uploads.js';
import { s3Client } from '../adapters/s3-client.js';
import { S3UploadSigner, UPLOAD_SIGNER_PERMISSIONS } from '../adapters/s3-uploads.js';
import { systemClock } from '../domain/ports.js';
import { PresenceService } from '../domain/presence.js';
import { loadConfig } from '../shared/config.js';
import { buildMessagePath, type MessagePathHooks, messagePathUses } from './message-path.js';
import { checkScheduler, presenceRead, presenceStore } from './presence.js';
import { buildRoomAccess, buildRoomService, roomAccessUses, roomServiceUses } from './rooms.js';
import { declareRoot, uses } from './wiring.js';

/** `POST /api/uploads`: records pending uploads and signs their POST policies. */
const uploadRecords = uses(UPLOAD_RECORD_PERMISSIONS, ['put']);
const signer = uses(UPLOAD_SIGNER_PERMISSIONS, ['presignPost']);

export const httpDeclaration = declareRoot([...messagePathUses, ...roomAccessUses, ...roomServiceUses, presenceRead, uploadRecords, signer], 'identity');

export function buildHttpRoot(hooks: MessagePathHooks = {}) {
  const config = loadConfig();
  const uploads = {
    records: uploadRecords.narrow(new DynamoUploadRecords(dynamoClient(), config.messagesTable)),
    signer: signer.narrow(new S3UploadSigner(s3Client, config.mediaBucket)),
  };
  const path = buildMessagePath(config, hooks, { uploads });
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

/**
 * Composition root of the REST function: the message path (lambdas/roots/message-path.ts), so a
 * sender mixing REST (large media) and WebSocket sends is delivered the same way and in order.
 */
import { dynamoClient } from '../adapters/clients.js';
import { DynamoUploadRecords, UPLOAD_RECORD_PERMISSIONS } from '../adapters/dynamo-uploads.js';
import { s3Client } from '../adapters/s3-client.js';
import { S3UploadSigner, UPLOAD_SIGNER_PERMISSIONS } from '../adapters/s3-uploads.js';
import { loadConfig } from '../shared/config.js';
import { buildMessagePath, type MessagePathHooks, messagePathUses } from './message-path.js';
import { buildRoomAccess, buildRoomService, roomAccessUses, roomServiceUses } from './rooms.js';
import { declareRoot, uses } from './wiring.js';

/** `POST /api/uploads`: records pending uploads and signs their POST policies. */
const uploadRecords = uses(UPLOAD_RECORD_PERMISSIONS, ['put']);
const signer = uses(UPLOAD_SIGNER_PERMISSIONS, ['presignPost']);

export const httpDeclaration = declareRoot([...messagePathUses, ...roomAccessUses, ...roomServiceUses, uploadRecords, signer], 'identity');

export function buildHttpRoot(hooks: MessagePathHooks = {}) {
  const config = loadConfig();
  const uploads = {
    records: uploadRecords.narrow(new DynamoUploadRecords(dynamoClient(), config.messagesTable)),
    signer: signer.narrow(new S3UploadSigner(s3Client(), config.mediaBucket)),
  };
  return {
    sseUrl: config.sseUrl,
    ...buildMessagePath(config, hooks, { uploads }),
    roomAccess: buildRoomAccess(config),
    rooms: buildRoomService(config),
  };
}

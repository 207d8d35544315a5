/**
 * Composition root of the SSE stream: history reads, the per-user stream leases, and the relay's
 * WebSocket API URL.
 */
import { dynamoClient } from '../adapters/clients.js';
import { DynamoStreamLeases, STREAM_LEASE_PERMISSIONS } from '../adapters/dynamo-stream-leases.js';
import { DynamoStreamStore, STREAM_STORE_PERMISSIONS } from '../adapters/dynamo-stream-store.js';
import { StreamHistory } from '../domain/history.js';
import { loadConfig } from '../shared/config.js';
import { READ_AUTH_SECRET } from '../shared/permissions.js';
import { attachmentLinkUses, attachmentReader } from './message-path.js';
import { buildRoomAccess, roomAccessUses } from './rooms.js';
import { declareRoot, lazy, uses } from './wiring.js';

const stream = uses(STREAM_STORE_PERMISSIONS, ['pageBefore', 'pageAfter']);
const leases = uses(STREAM_LEASE_PERMISSIONS, ['put', 'countLive', 'remove']);

/** A Function URL has no authorizer: the handler verifies tokens (the HS256 secret, when used). */
export const sseDeclaration = declareRoot([stream, leases, READ_AUTH_SECRET, ...roomAccessUses, attachmentLinkUses], 'verify');

export const sseRoot = lazy(() => {
  const config = loadConfig();
  const attachments = attachmentReader(config);
  return {
    wsUrl: config.wsUrl,
    // History items with attachments get freshly signed download URLs.
    history: new StreamHistory(stream.narrow(new DynamoStreamStore(dynamoClient(), config.messagesTable)), (item) =>
      attachments.presentItem(item, Date.now()),
    ),
    leases: leases.narrow(new DynamoStreamLeases(dynamoClient(), config.messagesTable)),
    roomAccess: buildRoomAccess(config),
  };
});

/** Composition root of `$disconnect`: remove the connection record. */
import { dynamoClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { loadConfig } from '../shared/config.js';
import { declareRoot, lazy, uses } from './wiring.js';

const connections = uses(CONNECTION_STORE_PERMISSIONS, ['remove']);

export const wsDisconnectDeclaration = declareRoot([connections]);

export const wsDisconnectRoot = lazy(() => ({
  connections: connections.narrow(new DynamoConnectionStore(dynamoClient(), loadConfig().connectionsTable)),
}));

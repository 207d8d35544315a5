/**
 * Lean wiring for functions that need one store and nothing else (`$disconnect`): importing the
 * full container (container.ts) would bundle the message service, fan-out, codecs and the zod
 * schemas with them, which a function pays for in bundle size and module-load time
 * (bench/). Built per call from the same config and the same cached SDK client as the container,
 * so resetClients() and config changes apply here too.
 */
import { loadConfig } from '../shared/config.js';
import { dynamoClient } from './clients.js';
import { DynamoConnectionStore } from './dynamo-connection-store.js';

export function connectionStore(): DynamoConnectionStore {
  return new DynamoConnectionStore(dynamoClient(), loadConfig().connectionsTable);
}

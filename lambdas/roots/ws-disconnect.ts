/** Composition root of `$disconnect`: remove the connection record, schedule its presence check. */
import { dynamoClient, sqsClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { SqsTaskQueue, TASK_QUEUE_PERMISSIONS } from '../adapters/sqs-task-queue.js';
import { loadConfig } from '../shared/config.js';
import { onGoneOf } from './presence.js';
import { declareRoot, lazy, uses } from './wiring.js';

const connections = uses(CONNECTION_STORE_PERMISSIONS, ['remove']);
const tasks = uses(TASK_QUEUE_PERMISSIONS, ['send']);

export const wsDisconnectDeclaration = declareRoot([connections, tasks]);

export const wsDisconnectRoot = lazy(() => {
  const config = loadConfig();
  return {
    connections: connections.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable)),
    /** The user may have left the room: `offline` follows the grace period unless they are back. */
    left: onGoneOf(tasks.narrow(new SqsTaskQueue(sqsClient, config.taskQueueUrl)), config),
  };
});

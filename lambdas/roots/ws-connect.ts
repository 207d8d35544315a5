/** Composition root of `$connect`: store the connection record, enqueue its greeting. */
import { dynamoClient, sqsClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { SqsTaskQueue, TASK_QUEUE_PERMISSIONS } from '../adapters/sqs-task-queue.js';
import type { RegisterDeps } from '../domain/connections.js';
import { systemClock } from '../domain/ports.js';
import { PresenceService } from '../domain/presence.js';
import { loadConfig } from '../shared/config.js';
import { buildRoomAccess, roomAccessUses } from './rooms.js';
import { presenceEnter, presenceStore } from './presence.js';
import { declareRoot, lazy, uses } from './wiring.js';

/** `remove`: a handshake refused by its re-check takes its record out again (room-access.ts). */
const connections = uses(CONNECTION_STORE_PERMISSIONS, ['put', 'remove']);
const tasks = uses(TASK_QUEUE_PERMISSIONS, ['send']);

export const wsConnectDeclaration = declareRoot([connections, tasks, ...roomAccessUses, presenceEnter], 'identity');

export const wsConnectRoot = lazy(() => {
  const config = loadConfig();
  const store = connections.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable));
  const register: RegisterDeps = {
    connections: store,
    tasks: tasks.narrow(new SqsTaskQueue(sqsClient, config.taskQueueUrl)),
    clock: systemClock,
  };
  // `online` goes through the task queue: the new connection is not postable before $connect returns.
  const presence = new PresenceService({
    store: presenceEnter.narrow(presenceStore(config)) as ConstructorParameters<typeof PresenceService>[0]['store'],
    clock: systemClock,
    publish: (task) => register.tasks.send(task),
  });
  return { corsOrigins: config.corsOrigins, register, connections: store, roomAccess: buildRoomAccess(config), presence };
});

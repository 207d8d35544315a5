/** Composition root of the REST function: store and read messages, enqueue fan-out, rate-limit. */
import { dynamoClient, sqsClient } from '../adapters/clients.js';
import { CLIENT_ID_PERMISSIONS, DynamoClientIds } from '../adapters/dynamo-client-ids.js';
import { DynamoRateCounter, RATE_COUNTER_PERMISSIONS } from '../adapters/dynamo-rate-counter.js';
import { DynamoStreamStore, STREAM_STORE_PERMISSIONS } from '../adapters/dynamo-stream-store.js';
import { SqsTaskQueue, TASK_QUEUE_PERMISSIONS } from '../adapters/sqs-task-queue.js';
import { ChatService } from '../domain/chat-service.js';
import { StreamHistory } from '../domain/history.js';
import { systemClock } from '../domain/ports.js';
import { RateLimiter } from '../domain/rate-limit.js';
import { loadConfig } from '../shared/config.js';
import { declareRoot, lazy, uses } from './wiring.js';

const stream = uses(STREAM_STORE_PERMISSIONS, ['append', 'pageBefore', 'pageAfter']);
const tasks = uses(TASK_QUEUE_PERMISSIONS, ['send']);
const rate = uses(RATE_COUNTER_PERMISSIONS, ['increment']);
const clientIds = uses(CLIENT_ID_PERMISSIONS, ['claim', 'release']);

export const httpDeclaration = declareRoot([stream, tasks, rate, clientIds], 'identity');

/** No `@connections` here: every fan-out of a REST message goes through the task queue. */
export const httpRoot = lazy(() => {
  const config = loadConfig();
  const store = stream.narrow(new DynamoStreamStore(dynamoClient(), config.messagesTable));
  return {
    sseUrl: config.sseUrl,
    chat: new ChatService({
      store,
      tasks: tasks.narrow(new SqsTaskQueue(sqsClient(), config.taskQueueUrl)),
      clock: systemClock,
      retentionDays: config.retentionDays,
      clientIds: clientIds.narrow(new DynamoClientIds(dynamoClient(), config.messagesTable)),
    }),
    history: new StreamHistory(store),
    rateLimiter: new RateLimiter(rate.narrow(new DynamoRateCounter(dynamoClient(), config.connectionsTable)), systemClock, config.rateLimits),
  };
});

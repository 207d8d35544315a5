/**
 * Wires the services to their AWS adapters once per cold start, on first use. Handlers ask for
 * what they need; tests and the local runtime get the very same wiring through the same env vars.
 */
import { ChatService } from '../domain/chat-service.js';
import { ConnectionService } from '../domain/connections.js';
import { FanoutService } from '../domain/fanout.js';
import { systemClock } from '../domain/ports.js';
import { RateLimiter } from '../domain/rate-limit.js';
import { countMetrics } from '../handlers/common/observability.js';
import { type AppConfig, loadConfig } from '../shared/config.js';
import { ApiGatewayConnectionGateway } from './apigw-gateway.js';
import { dynamoClient, managementClient, sqsClient } from './clients.js';
import { DynamoConnectionStore } from './dynamo-connection-store.js';
import { DynamoRateCounter } from './dynamo-rate-counter.js';
import { DynamoStreamStore } from './dynamo-stream-store.js';
import { SqsTaskQueue } from './sqs-task-queue.js';

export interface Container {
  config: AppConfig;
  chat: ChatService;
  connections: ConnectionService;
  fanout: FanoutService;
  gateway: ApiGatewayConnectionGateway;
  store: DynamoStreamStore;
  rateLimiter: RateLimiter;
}

let container: Container | undefined;

export function getContainer(): Container {
  if (container) return container;
  const config = loadConfig();
  const store = new DynamoStreamStore(dynamoClient(), config.messagesTable);
  const connectionStore = new DynamoConnectionStore(dynamoClient(), config.connectionsTable);
  const tasks = new SqsTaskQueue(sqsClient(), config.taskQueueUrl);
  const gateway = new ApiGatewayConnectionGateway(managementClient(config.wsManagementEndpoint));
  const fanout = new FanoutService({
    connections: connectionStore,
    gateway,
    tasks,
    ledger: store,
    // Inline delivery needs the @connections endpoint (and the grant that comes with it): the
    // functions without it (REST) hand every fan-out to the task queue.
    inlineMaxMembers: config.wsManagementEndpoint ? config.inlineFanoutMaxMembers : 0,
    // Every fan-out, inline (message path) or from a task, is counted the same way.
    onStats: (stats) => countMetrics({ MessagesDelivered: stats.delivered, StaleConnectionsRemoved: stats.gone, DeliveryFailures: stats.failed + stats.dropped }),
  });
  container = {
    config,
    store,
    gateway,
    chat: new ChatService({ store, tasks, clock: systemClock, retentionDays: config.retentionDays, fanout }),
    connections: new ConnectionService({ connections: connectionStore, tasks, gateway, clock: systemClock }),
    fanout,
    rateLimiter: new RateLimiter(new DynamoRateCounter(dynamoClient(), config.connectionsTable), systemClock),
  };
  return container;
}

/** Drops the wiring so the next call reads config again (tests). */
export function resetContainer(): void {
  container = undefined;
}

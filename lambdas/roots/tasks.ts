/** Composition root of the task consumer: greetings, fan-out (ledger, reading, posting, parts), presence checks, image previews. */
import { ApiGatewayConnectionGateway, GATEWAY_PERMISSIONS } from '../adapters/apigw-gateway.js';
import { dynamoClient, managementClient, sqsClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { DynamoTaskLedger, TASK_LEDGER_PERMISSIONS } from '../adapters/dynamo-task-ledger.js';
import { SqsTaskQueue, TASK_QUEUE_PERMISSIONS } from '../adapters/sqs-task-queue.js';
import { DynamoPreviewStore, PREVIEW_STORE_PERMISSIONS } from '../adapters/dynamo-previews.js';
import { s3Client } from '../adapters/s3-client.js';
import { MEDIA_READER_PERMISSIONS, S3MediaReader } from '../adapters/s3-media-reader.js';
import { PreviewService } from '../domain/previews.js';
import type { GreetDeps } from '../domain/connections.js';
import type { FanoutStats } from '../domain/delivery.js';
import { FanoutService } from '../domain/fanout.js';
import { systemClock } from '../domain/ports.js';
import { PresenceService, scheduleCheck } from '../domain/presence.js';
import { loadConfig } from '../shared/config.js';
import { checkScheduler, onGoneOf, presenceCheck, presenceStore } from './presence.js';
import { buildCutOffTask, cutOffUses } from './rooms.js';
import { declareRoot, uses } from './wiring.js';

const connections = uses(CONNECTION_STORE_PERMISSIONS, ['get', 'listRoom', 'listShard', 'removeStale', 'shardCount']);
const ledger = uses(TASK_LEDGER_PERMISSIONS, ['isDone', 'markDone']);
const tasks = uses(TASK_QUEUE_PERMISSIONS, ['send', 'sendBatch']);
const gateway = uses(GATEWAY_PERMISSIONS, ['post']);
const media = uses(MEDIA_READER_PERMISSIONS, ['read']);
const previewStore = uses(PREVIEW_STORE_PERMISSIONS, ['setPreview']);

export const tasksDeclaration = declareRoot([connections, ledger, tasks, gateway, presenceCheck, ...cutOffUses, media, previewStore]);

export function buildTasksRoot(hooks: { onFanoutStats?: (stats: FanoutStats) => void } = {}) {
  const config = loadConfig();
  const connectionStore = connections.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable));
  const apiGateway = gateway.narrow(new ApiGatewayConnectionGateway(managementClient(config.wsManagementEndpoint)));
  const greeting: GreetDeps = { connections: connectionStore, gateway: apiGateway };
  const queue = tasks.narrow(new SqsTaskQueue(sqsClient, config.taskQueueUrl));
  const fanout = new FanoutService({
    connections: connectionStore,
    gateway: apiGateway,
    tasks: queue,
    ledger: ledger.narrow(new DynamoTaskLedger(dynamoClient(), config.messagesTable)),
    onGone: onGoneOf(queue, config),
    ...(hooks.onFanoutStats ? { onStats: hooks.onFanoutStats } : {}),
  });
  // An `offline` decided here is fanned out by this invocation (ledger, retries and parts as any fan-out).
  const presence = new PresenceService({
    store: presenceCheck.narrow(presenceStore(config)) as ConstructorParameters<typeof PresenceService>[0]['store'],
    clock: systemClock,
    publish: async (task) => {
      await fanout.run(task);
    },
  });
  // A removal's cut-off run again (rooms.ts); `offline` follows the grace period as after a leave.
  const schedule = checkScheduler(queue);
  const cutOff = buildCutOffTask(config, (room, user) => scheduleCheck(schedule, config.presenceGraceSeconds, room, user, Date.now()));
  const previews = new PreviewService({
    media: media.narrow(new S3MediaReader(s3Client, config.mediaBucket)),
    store: previewStore.narrow(new DynamoPreviewStore(dynamoClient(), config.messagesTable)),
  });
  return { greeting, fanout, presence, cutOff, previews };
}

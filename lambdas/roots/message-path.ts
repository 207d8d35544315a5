/**
 * The message path both the REST and the WebSocket message functions wire: store and read a
 * room's stream, rate-limit, claim client ids, and deliver (inline to small rooms, else through the
 * task queue). One definition, so the two functions deliver the same way.
 */
import { ApiGatewayConnectionGateway, GATEWAY_PERMISSIONS } from '../adapters/apigw-gateway.js';
import { dynamoClient, managementClient, sqsClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { CLIENT_ID_PERMISSIONS, DynamoClientIds } from '../adapters/dynamo-client-ids.js';
import { DynamoRateCounter, RATE_COUNTER_PERMISSIONS } from '../adapters/dynamo-rate-counter.js';
import { DynamoStreamStore, STREAM_STORE_PERMISSIONS } from '../adapters/dynamo-stream-store.js';
import { SqsTaskQueue, TASK_QUEUE_PERMISSIONS } from '../adapters/sqs-task-queue.js';
import { DynamoUploadRecords, UPLOAD_RECORD_PERMISSIONS } from '../adapters/dynamo-uploads.js';
import { s3Client } from '../adapters/s3-client.js';
import { ATTACHMENT_LINK_PERMISSIONS, S3AttachmentLinks } from '../adapters/s3-links.js';
import { ATTACHMENT_OBJECT_PERMISSIONS, S3AttachmentObjects } from '../adapters/s3-objects.js';
import { type AttachmentDeps, AttachmentService } from '../domain/attachments.js';
import type { StreamItem } from '../domain/model.js';
import { ChatService } from '../domain/chat-service.js';
import type { FanoutStats } from '../domain/delivery.js';
import { StreamHistory } from '../domain/history.js';
import { InlineFanout } from '../domain/inline-fanout.js';
import { systemClock } from '../domain/ports.js';
import { RateLimiter } from '../domain/rate-limit.js';
import type { FanoutTask } from '../domain/tasks.js';
import type { AppConfig } from '../shared/config.js';
import { onGoneOf } from './presence.js';
import { uses } from './wiring.js';

const stream = uses(STREAM_STORE_PERMISSIONS, ['append', 'pageBefore', 'pageAfter']);
const tasks = uses(TASK_QUEUE_PERMISSIONS, ['send', 'sendBatch']);
const members = uses(CONNECTION_STORE_PERMISSIONS, ['listRoom', 'removeStale']);
const post = uses(GATEWAY_PERMISSIONS, ['post']);
const rate = uses(RATE_COUNTER_PERMISSIONS, ['increment']);
const clientIds = uses(CLIENT_ID_PERMISSIONS, ['claim', 'release']);
const uploadRecords = uses(UPLOAD_RECORD_PERMISSIONS, ['markUsed', 'release']);
const attachmentObjects = uses(ATTACHMENT_OBJECT_PERMISSIONS, ['head', 'readStart', 'copy', 'remove']);
const links = uses(ATTACHMENT_LINK_PERMISSIONS, ['sign']);

export const messagePathUses = [stream, tasks, members, post, rate, clientIds, uploadRecords, attachmentObjects, links];

/** Download links only (readers of history: the SSE stream). */
export const attachmentLinkUses = links;
export function attachmentReader(config: AppConfig): AttachmentService {
  return new AttachmentService({ links: links.narrow(new S3AttachmentLinks(s3Client, config.mediaBucket)) });
}

export interface MessagePathHooks {
  onFanoutStats?: (stats: FanoutStats) => void;
}

export function buildMessagePath(config: AppConfig, hooks: MessagePathHooks = {}, extra: Pick<AttachmentDeps, 'uploads'> = {}) {
  const attachments = new AttachmentService({
    records: uploadRecords.narrow(new DynamoUploadRecords(dynamoClient(), config.messagesTable)),
    objects: attachmentObjects.narrow(new S3AttachmentObjects(s3Client, config.mediaBucket)),
    links: links.narrow(new S3AttachmentLinks(s3Client, config.mediaBucket)),
    ...extra,
  });
  const present = (item: StreamItem) => attachments.presentItem(item, Date.now());
  const store = stream.narrow(new DynamoStreamStore(dynamoClient(), config.messagesTable));
  const queue = tasks.narrow(new SqsTaskQueue(sqsClient, config.taskQueueUrl));
  const inline = new InlineFanout({
    connections: members.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable)),
    gateway: post.narrow(new ApiGatewayConnectionGateway(managementClient(config.wsManagementEndpoint))),
    tasks: queue,
    maxMembers: config.inlineFanoutMaxMembers,
    onGone: onGoneOf(queue, config),
    ...(hooks.onFanoutStats ? { onStats: hooks.onFanoutStats } : {}),
  });
  return {
    chat: new ChatService({
      store,
      tasks: queue,
      clock: systemClock,
      retentionDays: config.retentionDays,
      inline,
      clientIds: clientIds.narrow(new DynamoClientIds(dynamoClient(), config.messagesTable)),
      attachments,
    }),
    attachments,
    history: new StreamHistory(store, present),
    rateLimiter: new RateLimiter(rate.narrow(new DynamoRateCounter(dynamoClient(), config.connectionsTable)), systemClock, config.rateLimits),
    queue,
    /** A room fan-out that is not a stored message (presence, typing): inline if it can, else a task. */
    publish: async (task: FanoutTask) => {
      if (!(await inline.deliver(task))) await queue.send(task);
    },
  };
}

/**
 * Room wiring shared by the composition roots: the membership check every room-naming function
 * wires (one BatchGetItem on Rooms), the room service of the REST function (create, list,
 * members, and the cut-off of a removed member's connections), and the cut-off task of the task
 * consumer (the durable half of a removal).
 */
import { ApiGatewayConnectionGateway, GATEWAY_PERMISSIONS } from '../adapters/apigw-gateway.js';
import { dynamoClient, managementClient, sqsClient } from '../adapters/clients.js';
import { CONNECTION_STORE_PERMISSIONS, DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { DynamoRoomConnections, DynamoRoomStore, ROOM_CONNECTIONS_PERMISSIONS, ROOM_STORE_PERMISSIONS } from '../adapters/dynamo-rooms.js';
import { DynamoStreamStore, STREAM_STORE_PERMISSIONS } from '../adapters/dynamo-stream-store.js';
import { SqsTaskQueue, TASK_QUEUE_PERMISSIONS } from '../adapters/sqs-task-queue.js';
import { ADMIN_ROLE } from '../auth/settings.js';
import { systemClock } from '../domain/ports.js';
import type { RoomAccess } from '../domain/room-access.js';
import { MemberRoomAccess, RoomService } from '../domain/rooms.js';
import { type CutOffDeps, type CutOffOutcome, cutOff, type LeavesRoom } from '../domain/rooms-cutoff.js';
import type { CutOffTask } from '../domain/tasks.js';
import type { AppConfig } from '../shared/config.js';
import { uses } from './wiring.js';

const lookup = uses(ROOM_STORE_PERMISSIONS, ['lookup']);

/** What a function that checks room access declares. */
export const roomAccessUses = [lookup];

export function buildRoomAccess(config: AppConfig): RoomAccess {
  return new MemberRoomAccess(lookup.narrow(new DynamoRoomStore(dynamoClient(), config.roomsTable)), ADMIN_ROLE);
}

const store = uses(ROOM_STORE_PERMISSIONS, ['lookup', 'get', 'create', 'addMembers', 'removeMember', 'listMemberRooms', 'listPublicRooms']);
const history = uses(STREAM_STORE_PERMISSIONS, ['pageBefore']);
const members = uses(CONNECTION_STORE_PERMISSIONS, ['listRoom']);
const records = uses(ROOM_CONNECTIONS_PERMISSIONS, ['getMany', 'leaveRoom']);
const post = uses(GATEWAY_PERMISSIONS, ['post']);
const queue = uses(TASK_QUEUE_PERMISSIONS, ['send']);

/** What a function that cuts connections off a room declares (the REST function, the task consumer). */
export const cutOffUses = [members, records, post];

/** What the REST function declares for the room routes. */
export const roomServiceUses = [store, history, ...cutOffUses, queue];

/** Told about a user whose connections left a room (presence schedules their check). */
export type AfterCutOff = (room: string, userId: string) => Promise<void>;

function buildCutOff(config: AppConfig, afterCutOff?: AfterCutOff): (room: string, leaves: LeavesRoom) => Promise<CutOffOutcome> {
  const deps: CutOffDeps = {
    connections: members.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable)),
    records: records.narrow(new DynamoRoomConnections(dynamoClient(), config.connectionsTable)),
    gateway: post.narrow(new ApiGatewayConnectionGateway(managementClient(config.wsManagementEndpoint))),
  };
  return async (room, leaves) => {
    const outcome = await cutOff(deps, room, leaves);
    for (const user of outcome.users) await afterCutOff?.(room, user);
    return outcome;
  };
}

export function buildRoomService(config: AppConfig, afterCutOff?: AfterCutOff): RoomService {
  const tasks = queue.narrow(new SqsTaskQueue(sqsClient, config.taskQueueUrl));
  return new RoomService({
    store: store.narrow(new DynamoRoomStore(dynamoClient(), config.roomsTable)),
    history: history.narrow(new DynamoStreamStore(dynamoClient(), config.messagesTable)),
    connections: members.narrow(new DynamoConnectionStore(dynamoClient(), config.connectionsTable)),
    clock: systemClock,
    adminRole: ADMIN_ROLE,
    cutOff: buildCutOff(config, afterCutOff),
    scheduleCutOff: (task, delaySeconds) => tasks.send(task, { delaySeconds }),
  });
}

/**
 * The task consumer's side of a removal: the cut-off run again. It throws while a connection could
 * not be taken out, so SQS receives the task again (and after its retries, the DLQ keeps it).
 */
export function buildCutOffTask(config: AppConfig, afterCutOff?: AfterCutOff): (task: CutOffTask) => Promise<CutOffOutcome> {
  const run = buildCutOff(config, afterCutOff);
  return async (task) => {
    const outcome = await run(task.room, (c) => c.userId === task.user);
    if (outcome.failed > 0) throw new Error(`cut-off of ${task.user} from ${task.room}: ${outcome.failed} connections not taken out yet`);
    return outcome;
  };
}

/**
 * Connection lifecycle: `$connect` stores the record and schedules the `connected` greeting, the
 * tasks function sends it, and Socket.IO's CONNECT is answered in order. Each step takes only the
 * ports it uses, so each function wires (and is granted) only those.
 */
import { LIMITS } from '../shared/limits.js';
import { type Codec, codecFor } from '../protocol/codec.js';
import type { ConnectionRecord, Identity, ServerEvent, WireProtocol } from './model.js';
import type { Clock, ConnectionGateway, ConnectionStore, TaskQueue } from './ports.js';
import { TransientDeliveryError } from './ports.js';
import { postWithRetry } from './post.js';
import { backoffDelay, sleep } from './retry.js';
import type { GreetTask } from './tasks.js';
import { atOnce } from './at-once.js';

/** The `connected` greeting, the same for every protocol. */
export function connectedEvent(record: Pick<ConnectionRecord, 'connectionId' | 'room' | 'userId'>): ServerEvent {
  return {
    event: 'connected',
    data: { connection_id: record.connectionId, room: record.room, user: record.userId, message: 'Connected to chat server' },
  };
}

export interface RegisterDeps {
  connections: Pick<ConnectionStore, 'put'>;
  tasks: Pick<TaskQueue, 'send'>;
  clock: Clock;
}

export async function registerConnection(
  deps: RegisterDeps,
  connectionId: string,
  identity: Identity,
  room: string,
  protocol: WireProtocol,
): Promise<ConnectionRecord> {
  const now = deps.clock.now();
  const record: ConnectionRecord = {
    connectionId,
    room,
    userId: identity.userId,
    roles: identity.roles,
    protocol,
    connectedAt: new Date(now).toISOString(),
  };
  // The connection is not postable until $connect returns, so the greeting goes through a task.
  // Protocols with their own connect handshake (Socket.IO) get `connected` once it completes.
  const codec = codecFor(protocol);
  const frames = codec.openingFrames(connectionId);
  if (!codec.acceptConnect) frames.push(codec.encode(connectedEvent(record)));
  const task: GreetTask = { kind: 'greet', connectionId, frames };
  // The record and the task are written together (one round trip, not two): the task cannot be
  // carried out before $connect returns, and $connect returns after both have settled (neither is
  // left in flight when the sandbox freezes). If the record's write fails, the handshake fails and
  // the greeting finds no connection (410, then no record: done).
  await atOnce(deps.connections.put(record, Math.floor(now / 1000) + LIMITS.connectionTtlSeconds), deps.tasks.send(task));
  return record;
}

export interface AcceptDeps {
  connections: Pick<ConnectionStore, 'get' | 'remove'>;
  gateway: Pick<ConnectionGateway, 'post' | 'disconnect'>;
}

/**
 * Answers a protocol-level connect (Socket.IO's namespace CONNECT): the codec's accept frames,
 * then `connected`, posted in this order through the gateway (a route response could overtake a
 * post). A connection without a record is unknown to the service: it is closed, so the client
 * reconnects and registers again.
 */
export async function acceptConnect(deps: AcceptDeps, connectionId: string, codec: Codec): Promise<'sent' | 'gone'> {
  const record = await deps.connections.get(connectionId);
  if (!record) {
    await deps.gateway.disconnect?.(connectionId);
    return 'gone';
  }
  const frames = [...(codec.acceptConnect?.(connectionId) ?? []), codec.encode(connectedEvent(record))];
  for (const frame of frames) {
    const outcome = await postWithRetry(deps.gateway, connectionId, frame);
    if (outcome === 'gone') {
      await deps.connections.remove(connectionId);
      return 'gone';
    }
  }
  return 'sent';
}

export interface GreetDeps {
  connections: Pick<ConnectionStore, 'get'>;
  gateway: Pick<ConnectionGateway, 'post'>;
}

/**
 * Sends the greeting frames. API Gateway answers 410 until `$connect` has returned, so a 410 is
 * retried for a short while; if the record is gone too, the client left and the task is done.
 */
export async function greet(deps: GreetDeps, task: GreetTask): Promise<'sent' | 'gone'> {
  for (let attempt = 0; ; attempt++) {
    let outcome: 'ok' | 'gone';
    try {
      outcome = await deps.gateway.post(task.connectionId, task.frames[0]!);
    } catch (error) {
      if (!(error instanceof TransientDeliveryError) || attempt >= LIMITS.greetRetries) throw error;
      await sleep(backoffDelay(attempt, LIMITS.greetRetryBaseMs, 1000));
      continue;
    }
    if (outcome === 'ok') {
      // Later frames are retried on their own: failing the task here would make SQS send the
      // first frame again.
      for (const frame of task.frames.slice(1)) {
        if ((await postWithRetry(deps.gateway, task.connectionId, frame)) === 'gone') return 'gone';
      }
      return 'sent';
    }
    if (attempt >= LIMITS.greetRetries) {
      const record = await deps.connections.get(task.connectionId);
      if (!record) return 'gone';
      throw new TransientDeliveryError('connection not yet postable', 'server');
    }
    await sleep(LIMITS.greetRetryBaseMs * 2 ** Math.min(attempt, 4));
  }
}

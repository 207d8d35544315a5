/**
 * The interfaces the business logic needs from the outside world. Adapters in lambdas/adapters
 * implement them on DynamoDB, SQS and the API Gateway management API; tests and the local runtime
 * use the same adapters against emulators.
 */
import type { ChatMessage, ConnectionRecord, StreamItem, WireProtocol } from './model.js';
import type { Task } from './tasks.js';

export interface StreamStore {
  /** Stores an item once: appending an id that already exists is a no-op that returns false. */
  append(item: StreamItem, ttlEpochSeconds: number): Promise<boolean>;
  /** Newest first, strictly before `before` when given. */
  pageBefore(stream: string, before: string | undefined, limit: number): Promise<StreamItem[]>;
  /** Oldest first, strictly after `after`. */
  pageAfter(stream: string, after: string, limit: number): Promise<StreamItem[]>;
}

/** Remembers completed tasks so a redelivered SQS message is not processed twice. */
export interface TaskLedger {
  isDone(key: string): Promise<boolean>;
  markDone(key: string): Promise<void>;
}

export interface Member {
  connectionId: string;
  protocol: WireProtocol;
}

export interface MemberPage {
  members: Member[];
  /** Opaque cursor of the next page, absent on the last page. */
  cursor?: string;
}

export interface ConnectionStore {
  put(record: ConnectionRecord, ttlEpochSeconds: number): Promise<void>;
  get(connectionId: string): Promise<ConnectionRecord | undefined>;
  /** Removes a connection; the record it removed, if there was one. */
  remove(connectionId: string): Promise<ConnectionRecord | undefined>;
  /**
   * Removes a connection that answered 410, unless it connected after `connectedBefore` (ISO
   * time); the record it removed, if it did.
   */
  removeStale(connectionId: string, connectedBefore: string): Promise<ConnectionRecord | undefined>;
  /** Moves a connection to a room (or out of every room with null); undefined if it does not exist. */
  setRoom(connectionId: string, room: string | null): Promise<ConnectionRecord | undefined>;
  listRoom(room: string, cursor: string | undefined, limit: number): Promise<MemberPage>;
  /** Connections of one broadcast shard. */
  listShard(shard: number, cursor: string | undefined, limit: number): Promise<MemberPage>;
  readonly shardCount: number;
}

export interface TaskQueue {
  /** `delaySeconds` (0-900, SQS DelaySeconds): the task becomes visible that much later. */
  send(task: Task, options?: { delaySeconds?: number }): Promise<void>;
  /** Several tasks in as few requests as the queue allows (SQS: 10 per SendMessageBatch). */
  sendBatch?(tasks: Task[]): Promise<void>;
}

/** Outcome of posting to a connection: delivered, or the connection no longer exists (410). */
export type PostOutcome = 'ok' | 'gone';

/** Thrown by a gateway for a retryable failure (429 throttling, 5xx, network). */
export class TransientDeliveryError extends Error {
  constructor(
    message: string,
    readonly kind: 'throttled' | 'server' | 'network',
  ) {
    super(message);
    this.name = 'TransientDeliveryError';
  }
}

export interface ConnectionGateway {
  post(connectionId: string, payload: string): Promise<PostOutcome>;
  /** Closes a connection (used when it is torn down by the service). */
  disconnect?(connectionId: string): Promise<void>;
}

/**
 * Messages by (sender, client_id): the first send records its message; a retry within the window
 * gets that message back instead of storing another.
 */
export interface ClientIdRegistry {
  /** Records `message` under the key unless one is recorded and not expired; returns the recorded one then. */
  claim(key: string, message: ChatMessage, nowSeconds: number, expiresAt: number): Promise<ChatMessage | undefined>;
  /** Forgets a claim whose message could not be stored, so a retry can store it. */
  release(key: string): Promise<void>;
}

/** Leases of open SSE streams, per user, each expiring at the latest moment its stream can end. */
export interface StreamLeases {
  put(userId: string, leaseId: string, expiresAtSeconds: number): Promise<void>;
  /** Leases of the user not yet expired at `nowSeconds`, counted up to `max` (a Query, no Scan). */
  countLive(userId: string, nowSeconds: number, max: number): Promise<number>;
  remove(userId: string, leaseId: string): Promise<void>;
}

export interface RateCounter {
  /**
   * Adds one hit to each of `counters`, all kept in one record (`key`, window starting at
   * `windowStart`), in one write however many counters, and returns the new count of each.
   */
  increment(key: string, counters: readonly string[], windowStart: number, expiresAt: number): Promise<Record<string, number>>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

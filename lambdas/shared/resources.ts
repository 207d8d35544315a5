/**
 * Table and queue definitions: the single description that the CDK stack and the local runtime
 * both build their resources from.
 */
export interface TableKey {
  name: string;
  type: 'S' | 'N';
}

export interface IndexDefinition {
  indexName: string;
  partitionKey: TableKey;
  sortKey?: TableKey;
  /** Non-key attributes projected into the index (fan-out needs the protocol of each connection). */
  nonKeyAttributes: string[];
}

export interface TableDefinition {
  /** Logical id in the stack; also the local table name. */
  id: string;
  /** Environment variable through which handlers receive the physical name. */
  envVar: string;
  partitionKey: TableKey;
  sortKey?: TableKey;
  ttlAttribute: string;
  indexes: IndexDefinition[];
}

export const CONNECTIONS_TABLE: TableDefinition = {
  id: 'Connections',
  envVar: 'CONNECTIONS_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  ttlAttribute: 'ttl',
  indexes: [
    {
      // One partition per room: fan-out reads a room's connections page by page with Query.
      indexName: 'byRoom',
      partitionKey: { name: 'room', type: 'S' },
      sortKey: { name: 'pk', type: 'S' },
      nonKeyAttributes: ['protocol'],
    },
    {
      // Broadcasts reach every connection: connections are spread over a fixed number of shards so
      // a broadcast is a set of parallel Queries, never a Scan.
      indexName: 'byShard',
      partitionKey: { name: 'shard', type: 'N' },
      sortKey: { name: 'pk', type: 'S' },
      nonKeyAttributes: ['protocol'],
    },
    {
      // Presence: a room's connections grouped by user (a user's tabs are one member), with what a
      // presence answer shows. byRoom stays as it is: changing an index's projection fails an update.
      indexName: 'byRoomUser',
      partitionKey: { name: 'room', type: 'S' },
      sortKey: { name: 'userId', type: 'S' },
      nonKeyAttributes: ['connectedAt', 'enteredAt', 'ttl'],
    },
  ],
};

export const MESSAGES_TABLE: TableDefinition = {
  id: 'Messages',
  envVar: 'MESSAGES_TABLE',
  partitionKey: { name: 'stream', type: 'S' },
  sortKey: { name: 'id', type: 'S' },
  ttlAttribute: 'ttl',
  indexes: [],
};

/**
 * Rooms with a record (created with `POST /api/rooms` or `/api/rooms/direct`): per room a `meta`
 * item and one `member#<user>` item per member. Rooms without a record are public, as before.
 */
export const ROOMS_TABLE: TableDefinition = {
  id: 'Rooms',
  envVar: 'ROOMS_TABLE',
  partitionKey: { name: 'room', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  ttlAttribute: 'ttl',
  indexes: [
    {
      // "My rooms": sparse, only member items of private rooms carry `member` (the user id).
      indexName: 'byMember',
      partitionKey: { name: 'member', type: 'S' },
      sortKey: { name: 'room', type: 'S' },
      nonKeyAttributes: ['visibility', 'owner', 'direct', 'members', 'createdAt'],
    },
    {
      // Public rooms: sparse, only the meta item of a public room carries `listing`.
      indexName: 'publicRooms',
      partitionKey: { name: 'listing', type: 'S' },
      sortKey: { name: 'room', type: 'S' },
      nonKeyAttributes: ['visibility', 'owner', 'createdAt'],
    },
  ],
};

export const TABLES = [CONNECTIONS_TABLE, MESSAGES_TABLE, ROOMS_TABLE] as const;

/** Number of shards connections are spread over for broadcasts. */
export const CONNECTION_SHARDS = 16;

export interface QueueDefinition {
  id: string;
  envVar: string;
  /** Handler module under lambdas/handlers that consumes it. */
  consumer: string;
}

export const TASK_QUEUE: QueueDefinition = {
  id: 'Tasks',
  envVar: 'TASK_QUEUE_URL',
  consumer: 'tasks',
};

export const QUEUES = [TASK_QUEUE] as const;

export interface BucketDefinition {
  id: string;
  envVar: string;
  /** Where presigned POSTs land (`uploads/<user>/<attachment id>`); expired by lifecycle after a day. */
  uploadsPrefix: string;
  /** Where referenced uploads are copied (`media/<attachment id>`); expired with the message retention. */
  mediaPrefix: string;
}

/** The private bucket of attachments (photos, voice notes). */
export const MEDIA_BUCKET: BucketDefinition = {
  id: 'Media',
  envVar: 'MEDIA_BUCKET',
  uploadsPrefix: 'uploads/',
  mediaPrefix: 'media/',
};

/**
 * Runtime configuration of the handlers, read from environment variables that the CDK stack (or
 * the local runtime) sets. Names live here once; the stack imports ENV to set them.
 */
import { LIMITS, RATE_LIMITS, type RateLimitSettings } from './limits.js';
import { CONNECTIONS_TABLE, MEDIA_BUCKET, MESSAGES_TABLE, ROOMS_TABLE, TASK_QUEUE } from './resources.js';

export const ENV = {
  connectionsTable: CONNECTIONS_TABLE.envVar,
  messagesTable: MESSAGES_TABLE.envVar,
  taskQueueUrl: TASK_QUEUE.envVar,
  /** https endpoint of the WebSocket API's @connections management API (stage included). */
  wsManagementEndpoint: 'WS_MANAGEMENT_ENDPOINT',
  /** wss:// URL of the WebSocket API stage: the SSE function subscribes through it (relay). */
  wsUrl: 'WS_URL',
  /** Public URL of the SSE stream (Function URL + /api/events), for the REST redirect. */
  sseUrl: 'SSE_URL',
  stage: 'STAGE',
  corsOrigins: 'CORS_ORIGINS',
  retentionDays: 'MESSAGE_RETENTION_DAYS',
  /** Overrides LIMITS.inlineFanoutMaxMembers (0: every fan-out goes through the task queue). */
  inlineFanoutMaxMembers: 'INLINE_FANOUT_MAX_MEMBERS',
  /** Overrides of RATE_LIMITS (load tests raise them). */
  rateWindowSeconds: 'RATE_WINDOW_SECONDS',
  ratePerConnection: 'RATE_PER_CONNECTION',
  ratePerUser: 'RATE_PER_USER',
  /** Overrides LIMITS.presenceGraceSeconds (tests shorten it). */
  presenceGraceSeconds: 'PRESENCE_GRACE_SECONDS',
  /** Endpoint override for DynamoDB and SQS (LocalStack, embedded emulators). */
  endpointUrl: 'AWS_ENDPOINT_URL',
  /** The attachments bucket (uploads and media). */
  mediaBucket: MEDIA_BUCKET.envVar,
  roomsTable: ROOMS_TABLE.envVar,
} as const;

export interface AppConfig {
  connectionsTable: string;
  messagesTable: string;
  taskQueueUrl: string;
  wsManagementEndpoint: string;
  wsUrl: string;
  sseUrl: string;
  stage: string;
  corsOrigins: string[];
  retentionDays: number;
  inlineFanoutMaxMembers: number;
  rateLimits: RateLimitSettings;
  mediaBucket: string;
  roomsTable: string;
  presenceGraceSeconds: number;
}

function read(name: string, fallback?: string): string {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback !== undefined) return fallback;
  return '';
}

/** Reads configuration lazily (first use), so nothing happens at module load. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const get = (name: string, fallback?: string) => {
    const value = env[name];
    return value !== undefined && value !== '' ? value : (fallback ?? read(name));
  };
  const positive = (name: string, fallback: number) => {
    const value = Number(get(name, String(fallback)));
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const retention = Number(get(ENV.retentionDays, String(LIMITS.defaultRetentionDays)));
  const grace = Number(get(ENV.presenceGraceSeconds, String(LIMITS.presenceGraceSeconds)));
  const inline = Number(get(ENV.inlineFanoutMaxMembers, String(LIMITS.inlineFanoutMaxMembers)));
  return {
    connectionsTable: get(ENV.connectionsTable, CONNECTIONS_TABLE.id),
    messagesTable: get(ENV.messagesTable, MESSAGES_TABLE.id),
    taskQueueUrl: get(ENV.taskQueueUrl),
    wsManagementEndpoint: get(ENV.wsManagementEndpoint),
    wsUrl: get(ENV.wsUrl),
    sseUrl: get(ENV.sseUrl),
    stage: get(ENV.stage, 'dev'),
    corsOrigins: get(ENV.corsOrigins, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    retentionDays: Number.isFinite(retention) && retention > 0 ? retention : LIMITS.defaultRetentionDays,
    inlineFanoutMaxMembers: Number.isInteger(inline) && inline >= 0 ? inline : LIMITS.inlineFanoutMaxMembers,
    rateLimits: {
      windowSeconds: positive(ENV.rateWindowSeconds, RATE_LIMITS.windowSeconds),
      perConnection: positive(ENV.ratePerConnection, RATE_LIMITS.perConnection),
      perUser: positive(ENV.ratePerUser, RATE_LIMITS.perUser),
    },
    mediaBucket: get(ENV.mediaBucket),
    roomsTable: get(ENV.roomsTable, ROOMS_TABLE.id),
    // SQS DelaySeconds: 0 to 900.
    presenceGraceSeconds: Number.isInteger(grace) && grace >= 0 && grace <= 900 ? grace : LIMITS.presenceGraceSeconds,
  };
}

/**
 * The chat backend in one stack: tables, task queues, the functions (FUNCTIONS), the HTTP API and
 * the WebSocket API behind one Lambda authorizer, the streaming SSE Function URL, and alarms.
 *
 * Every table, queue, route, function and limit comes from lambdas/shared; this file only wires
 * them together. Who may do what is what each function's composition root declares (lib/access.ts).
 */
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { ENV } from '../lambdas/shared/config.js';
import { LIMITS, type RateLimitSettings, TASK_QUEUE_SETTINGS } from '../lambdas/shared/limits.js';
import { TABLES, TASK_QUEUE } from '../lambdas/shared/resources.js';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';
import { ACCESS, grantDeclared } from './access.js';
import { type AuthConfig, authEnvironment, createAuth, type ResolvedAuth } from './auth.js';
import { ChatFunction } from './constructs/chat-function.js';
import { Data } from './constructs/data.js';
import { MediaBucket } from './constructs/media-bucket.js';
import { ChatHttpApi } from './constructs/http-api.js';
import { Monitoring } from './constructs/monitoring.js';
import { Queues } from './constructs/queues.js';
import { SseEndpoint } from './constructs/sse.js';
import { DEFAULT_THROTTLE, type ThrottleProps } from './constructs/throttle.js';
import { ChatWebSocketApi } from './constructs/websocket-api.js';

export { ACCESS, DECLARED, type FunctionAccess } from './access.js';

export interface ChatStackProps extends StackProps {
  /** Deployment stage, e.g. `dev`; also the WebSocket stage name. */
  stage: string;
  /**
   * A production stage: CORS origins must be explicit (no `*`). Stages named `prod` or
   * `production` are production whatever this says.
   */
  production?: boolean;
  /**
   * Allowed browser origins (`scheme://host[:port]`): CORS of the HTTP API and the SSE Function
   * URL, and the Origin allow-list of the WebSocket `$connect` handler (CORS_ORIGINS).
   */
  corsOrigins: string[];
  /** Token verification: exactly one key source (lib/auth.ts). */
  auth: AuthConfig;
  /** Days messages and events are kept (DynamoDB TTL, set by the handlers). */
  messageRetentionDays: number;
  /** Retention of function and access log groups. */
  logRetentionDays: logs.RetentionDays;
  /** Tables and log groups: RETAIN (default) or DESTROY for throwaway stages. */
  dataRemovalPolicy?: RemovalPolicy;
  /** Stage-wide throttling of both APIs. */
  throttle?: ThrottleProps;
  /** E-mail address subscribed to the alarm topic. */
  alarmEmail?: string;
  /** See ChatWebSocketApi: set the account's API Gateway CloudWatch role (default false). */
  manageApiGatewayAccountRole?: boolean;
  /**
   * Message rate limits of the functions that rate-limit (RATE_* environment); a setting left out
   * keeps the handlers' default (RATE_LIMITS).
   */
  rateLimits?: Partial<RateLimitSettings>;
  /** Reserved concurrency of the SSE function, i.e. the most streams open at once (0: none). */
  sseReservedConcurrency?: number;
  /**
   * Rooms up to this many members are delivered by the message path itself, larger ones through the
   * task queue (0: every fan-out through the queue); unset keeps LIMITS.inlineFanoutMaxMembers.
   */
  inlineFanoutMaxMembers?: number;
  /** Seconds between a user's last connection leaving a room and `offline` (unset: LIMITS.presenceGraceSeconds). */
  presenceGraceSeconds?: number;
}

/** Context keys of the rate limits (`-c ratePerConnection=100`), and the setting each one sets. */
export const RATE_LIMIT_CONTEXT = {
  rateWindowSeconds: 'windowSeconds',
  ratePerConnection: 'perConnection',
  ratePerUser: 'perUser',
} as const satisfies Record<string, keyof RateLimitSettings>;

/**
 * The functions whose composition roots wire the message path (lambdas/roots/message-path.ts): they
 * rate-limit, and deliver small rooms inline.
 */
const MESSAGE_PATH_FUNCTIONS: readonly FunctionName[] = ['http', 'wsMessage'];
export const RATE_LIMITED_FUNCTIONS = MESSAGE_PATH_FUNCTIONS;
export const INLINE_FANOUT_FUNCTIONS = MESSAGE_PATH_FUNCTIONS;

const RATE_ENV: Record<keyof RateLimitSettings, string> = {
  windowSeconds: ENV.rateWindowSeconds,
  perConnection: ENV.ratePerConnection,
  perUser: ENV.ratePerUser,
};

/** Stages that are always production. */
export const PRODUCTION_STAGES = ['prod', 'production'];

export function isProduction(props: Pick<ChatStackProps, 'stage' | 'production'>): boolean {
  return props.production === true || PRODUCTION_STAGES.includes(props.stage.toLowerCase());
}

/**
 * CORS origins are compared with the browser's `Origin` header as they are, so each must be
 * exactly `scheme://host[:port]` (no path, no trailing slash), or `*` outside production.
 */
export function checkCorsOrigins(origins: readonly string[], production: boolean, stage: string): void {
  for (const origin of origins) {
    if (Token.isUnresolved(origin)) continue;
    if (origin === '*') {
      if (production) {
        throw new Error(
          `CORS: '*' is not allowed in the production stage '${stage}': list the allowed origins in the 'corsOrigins' context (they also guard WebSocket $connect against cross-site hijacking)`,
        );
      }
      continue;
    }
    if (!/^https?:\/\/[^/\s*]+$/.test(origin)) {
      throw new Error(`CORS: origin '${origin}' must be scheme://host[:port] with no path or trailing slash`);
    }
  }
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export class ChatStack extends Stack {
  readonly httpApiUrl: string;
  readonly webSocketUrl: string;
  readonly sseUrl: string;
  readonly functions: Record<FunctionName, ChatFunction>;
  readonly data: Data;
  readonly queues: Queues;
  readonly httpApi: ChatHttpApi;
  readonly webSocketApi: ChatWebSocketApi;
  readonly sse: SseEndpoint;
  readonly monitoring: Monitoring;
  readonly media: MediaBucket;
  readonly auth: ResolvedAuth;
  /** The SSM SecureString holding the HS256 secret (secret key source only). */
  readonly authSecret?: ssm.IStringParameter;
  private authSecretKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id, props);
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    const production = isProduction(props);
    checkCorsOrigins(props.corsOrigins, production, props.stage);
    if (production && props.corsOrigins.length === 0) {
      Annotations.of(this).addWarningV2(
        'chat:NoCorsOrigins',
        'No corsOrigins in a production stage: browsers cannot call the APIs cross-origin, and the WebSocket $connect Origin check is off.',
      );
    }
    this.auth = createAuth(this, props.auth, { removalPolicy });
    const authEnv = authEnvironment(this.auth);
    if (this.auth.source === 'secret') {
      this.authSecretKey = this.auth.secretKmsKeyArn ? kms.Key.fromKeyArn(this, 'AuthSecretKey', this.auth.secretKmsKeyArn) : undefined;
      this.authSecret = ssm.StringParameter.fromSecureStringParameterAttributes(this, 'AuthSecret', {
        parameterName: this.auth.secretParameterName,
        encryptionKey: this.authSecretKey,
      });
    }

    this.data = new Data(this, 'Data', { removalPolicy });
    this.queues = new Queues(this, 'Queues');
    this.media = new MediaBucket(this, 'Media', { corsOrigins: props.corsOrigins, retentionDays: props.messageRetentionDays, removalPolicy });
    const taskQueue = this.queues.queues[TASK_QUEUE.id as keyof Queues['queues']].queue;

    const commonEnv: Record<string, string> = {
      [ENV.stage]: props.stage,
      [ENV.corsOrigins]: props.corsOrigins.join(','),
      [ENV.retentionDays]: String(props.messageRetentionDays),
      [ENV.taskQueueUrl]: taskQueue.queueUrl,
    };
    for (const def of TABLES) commonEnv[def.envVar] = this.data.tables[def.id].tableName;
    if (props.presenceGraceSeconds !== undefined) commonEnv[ENV.presenceGraceSeconds] = String(props.presenceGraceSeconds);

    const sseReserved = props.sseReservedConcurrency ?? LIMITS.sseReservedConcurrency;
    const functions = {} as Record<FunctionName, ChatFunction>;
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      functions[name] = new ChatFunction(this, `${upperFirst(name)}Fn`, {
        name,
        // Functions that read identities run with auth on; the others never see one.
        environment: { ...commonEnv, ...(ACCESS[name].auth ? authEnv : {}) },
        logRetention: props.logRetentionDays,
        logRemovalPolicy: removalPolicy,
        // Every open SSE stream is a running invocation: a cap keeps abandoned or hostile streams
        // from taking the account's concurrency from the other functions.
        reservedConcurrency: name === 'sse' && sseReserved > 0 ? sseReserved : undefined,
      });
    }
    this.functions = functions;
    const rateEnv = Object.entries(props.rateLimits ?? {}).map(([setting, value]) => [RATE_ENV[setting as keyof RateLimitSettings], String(value)] as const);
    for (const name of RATE_LIMITED_FUNCTIONS) for (const [key, value] of rateEnv) functions[name].fn.addEnvironment(key, value);
    if (props.inlineFanoutMaxMembers !== undefined) {
      for (const name of INLINE_FANOUT_FUNCTIONS) functions[name].fn.addEnvironment(ENV.inlineFanoutMaxMembers, String(props.inlineFanoutMaxMembers));
    }
    const fns = {} as Record<FunctionName, lambda.IFunction>;
    for (const name of Object.keys(functions) as FunctionName[]) fns[name] = functions[name].fn;
    const fnOf = (name: FunctionName) => functions[name].fn;

    this.webSocketApi = new ChatWebSocketApi(this, 'WebSocketApi', {
      functions: fns,
      authorizerHandler: fnOf('authorizer'),
      stageName: props.stage,
      throttle,
      logRetention: props.logRetentionDays,
      logRemovalPolicy: removalPolicy,
      manageAccountCloudWatchRole: props.manageApiGatewayAccountRole ?? false,
    });

    this.httpApi = new ChatHttpApi(this, 'HttpApi', {
      handler: fnOf('http'),
      authorizerHandler: fnOf('authorizer'),
      corsOrigins: props.corsOrigins,
      throttle,
      logRetention: props.logRetentionDays,
      logRemovalPolicy: removalPolicy,
    });

    this.sse = new SseEndpoint(this, 'Sse', { handler: fnOf('sse'), corsOrigins: props.corsOrigins });
    fnOf('http').addEnvironment(ENV.sseUrl, this.sse.streamUrl);

    // Task queues feed their consumer function, with partial batch failures.
    for (const { definition, queue } of this.queues.all) {
      const consumer = (Object.keys(FUNCTIONS) as FunctionName[]).find(
        (name) => FUNCTIONS[name].entry === definition.consumer,
      );
      if (!consumer) throw new Error(`Queue ${definition.id}: no function with entry '${definition.consumer}'`);
      fnOf(consumer).addEventSource(
        new SqsEventSource(queue, {
          batchSize: TASK_QUEUE_SETTINGS.batchSize,
          maxBatchingWindow:
            TASK_QUEUE_SETTINGS.maxBatchingWindowSeconds > 0
              ? Duration.seconds(TASK_QUEUE_SETTINGS.maxBatchingWindowSeconds)
              : undefined,
          reportBatchItemFailures: true,
        }),
      );
    }

    // Grants: exactly what each function's composition root declares, and the environment that goes with them.
    const targets = {
      data: this.data,
      taskQueue,
      grantManageConnections: (fn: lambda.IFunction) => this.webSocketApi.grantManageConnections(fn),
      media: this.media,
      ...(this.authSecret ? { authSecret: { parameter: this.authSecret, ...(this.authSecretKey ? { key: this.authSecretKey } : {}) } } : {}),
    };
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      grantDeclared(name, fnOf(name), targets);
      if (ACCESS[name].manageConnections) fnOf(name).addEnvironment(ENV.wsManagementEndpoint, this.webSocketApi.managementEndpoint);
      if (ACCESS[name].media) fnOf(name).addEnvironment(ENV.mediaBucket, this.media.bucket.bucketName);
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: fns,
      deadLetterQueues: Object.fromEntries(this.queues.all.map((q) => [q.definition.id, q.deadLetterQueue])),
      httpApi: this.httpApi.api,
      webSocketStage: this.webSocketApi.stage,
      alarmEmail: props.alarmEmail,
    });

    // The SSE function subscribes to a room through the WebSocket API (relay), so idle streams read
    // nothing from DynamoDB; it connects with the caller's token like any client.
    fnOf('sse').addEnvironment(ENV.wsUrl, this.webSocketApi.url);

    this.httpApiUrl = this.httpApi.url;
    this.webSocketUrl = this.webSocketApi.url;
    this.sseUrl = this.sse.streamUrl;
    new CfnOutput(this, 'HttpApiUrl', { value: this.httpApiUrl, description: 'Base URL of the REST API' });
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketUrl, description: 'wss:// URL of the WebSocket API' });
    new CfnOutput(this, 'SseUrl', { value: this.sseUrl, description: 'SSE stream (GET, EventSource)' });
  }
}

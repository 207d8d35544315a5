/**
 * Builds the CDK app: reads the stack's props from context (cdk.json, or `-c key=value`), creates
 * the ChatStack and registers the cdk-nag AWS Solutions checks. bin/app.ts and the tests share it,
 * so the tests check exactly what `cdk synth` produces.
 */
import { App, type AppProps, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LIMITS, type RateLimitSettings } from '../lambdas/shared/limits.js';
import { AUTH_CONTEXT, type AuthConfig, defaultSecretParameterName } from './auth.js';
import { ChatStack, type ChatStackProps, RATE_LIMIT_CONTEXT } from './chat-stack.js';
import { DEFAULT_THROTTLE } from './constructs/throttle.js';

export const DEFAULTS = {
  stage: 'dev',
  corsOrigins: [] as string[],
  messageRetentionDays: LIMITS.defaultRetentionDays,
  logRetentionDays: 30,
} as const;

function raw(app: App, key: string): unknown {
  const value = app.node.tryGetContext(key);
  return value === '' ? undefined : value;
}

function str(app: App, key: string, fallback: string): string;
function str(app: App, key: string, fallback?: string): string | undefined;
function str(app: App, key: string, fallback?: string): string | undefined {
  const value = raw(app, key);
  return value === undefined || value === null ? fallback : String(value);
}

function num(app: App, key: string, fallback: number): number {
  const value = raw(app, key);
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`Context '${key}' must be a positive number, got ${String(value)}`);
  return n;
}

/** A whole number >= 0 (0 turns the setting off). */
function count(app: App, key: string, fallback: number): number {
  const value = raw(app, key);
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Context '${key}' must be a whole number >= 0, got ${String(value)}`);
  return n;
}

function bool(app: App, key: string, fallback: boolean): boolean;
function bool(app: App, key: string, fallback?: boolean): boolean | undefined;
function bool(app: App, key: string, fallback?: boolean): boolean | undefined {
  const value = raw(app, key);
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  return String(value).toLowerCase() === 'true';
}

/** Accepts a JSON array (cdk.json) or a comma-separated string (`-c corsOrigins=a,b`). */
function list(app: App, key: string, fallback: readonly string[]): string[] {
  const value = raw(app, key);
  if (value === undefined || value === null) return [...fallback];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((s) => s.trim()).filter(Boolean);
}

function retentionDays(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new Error(`Context 'logRetentionDays' must be one of ${allowed.join(', ')}; got ${days}`);
  }
  return days as RetentionDays;
}

/** The message rate limits the context sets (unset ones keep RATE_LIMITS, the handlers' defaults). */
function optionalRateLimits(app: App): Partial<RateLimitSettings> {
  const limits: Partial<RateLimitSettings> = {};
  for (const [key, setting] of Object.entries(RATE_LIMIT_CONTEXT) as Array<[string, keyof RateLimitSettings]>) {
    if (raw(app, key) !== undefined && raw(app, key) !== null) limits[setting] = num(app, key, 0);
  }
  return limits;
}

/**
 * The token key source from context. With none of them set, the HS256 secret in the SSM parameter
 * `/chat/<stage>/jwt-secret`; anything else chosen replaces that default (two explicit choices
 * fail at synth, lib/auth.ts).
 */
export function authFromContext(app: App, stage: string): AuthConfig {
  const auth: AuthConfig = {
    createUserPool: bool(app, AUTH_CONTEXT.createUserPool, false),
    cognitoUserPoolId: str(app, AUTH_CONTEXT.cognitoUserPoolId),
    cognitoClientId: str(app, AUTH_CONTEXT.cognitoClientId),
    jwksUrl: str(app, AUTH_CONTEXT.jwksUrl),
    issuer: str(app, AUTH_CONTEXT.issuer),
    audience: str(app, AUTH_CONTEXT.audience),
    secretParameterName: str(app, AUTH_CONTEXT.secretParameterName),
    secretKmsKeyArn: str(app, AUTH_CONTEXT.secretKmsKeyArn),
  };
  if (!auth.createUserPool && !auth.cognitoUserPoolId && !auth.jwksUrl && !auth.secretParameterName) {
    auth.secretParameterName = defaultSecretParameterName(stage);
  }
  return auth;
}

/**
 * Stack props from context, with defaults. The stack is environment-agnostic (no `env`): it does
 * no lookups, deploys to the account and region of the current credentials, and its ARNs stay
 * pseudo-parameter based (which the cdk-nag acknowledgements of IAM5 findings rely on).
 */
export function propsFromContext(app: App): ChatStackProps {
  const stage = str(app, 'stage', DEFAULTS.stage);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(stage)) throw new Error(`Context 'stage' must match [A-Za-z0-9_-]{1,64}`);
  return {
    stage,
    stackName: str(app, 'stackName', `chat-${stage}`),
    description: `Serverless chat backend (${stage})`,
    // Stages prod/production are production regardless (ChatStack).
    production: bool(app, 'production'),
    corsOrigins: list(app, 'corsOrigins', DEFAULTS.corsOrigins),
    // Checked by the stack (lib/auth.ts): exactly one key source.
    auth: authFromContext(app, stage),
    messageRetentionDays: num(app, 'messageRetentionDays', DEFAULTS.messageRetentionDays),
    logRetentionDays: retentionDays(num(app, 'logRetentionDays', DEFAULTS.logRetentionDays)),
    dataRemovalPolicy: bool(app, 'destroyData', false) ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    throttle: {
      rateLimit: num(app, 'throttleRateLimit', DEFAULT_THROTTLE.rateLimit),
      burstLimit: num(app, 'throttleBurstLimit', DEFAULT_THROTTLE.burstLimit),
    },
    rateLimits: optionalRateLimits(app),
    inlineFanoutMaxMembers: raw(app, 'inlineFanoutMaxMembers') == null ? undefined : count(app, 'inlineFanoutMaxMembers', 0),
    presenceGraceSeconds: raw(app, 'presenceGraceSeconds') == null ? undefined : count(app, 'presenceGraceSeconds', 0),
    alarmEmail: str(app, 'alarmEmail'),
    // The account-wide API Gateway CloudWatch role is only replaced when asked (as CDK's own default).
    manageApiGatewayAccountRole: bool(app, 'manageApiGatewayAccountRole', false),
    sseReservedConcurrency: count(app, 'sseReservedConcurrency', LIMITS.sseReservedConcurrency),
  };
}

export interface ChatApp {
  app: App;
  stack: ChatStack;
}

/** Creates the app with the ChatStack and the cdk-nag AWS Solutions checks. */
export function createChatApp(appProps?: AppProps): ChatApp {
  const app = new App(appProps);
  const stack = new ChatStack(app, 'ChatStack', propsFromContext(app));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

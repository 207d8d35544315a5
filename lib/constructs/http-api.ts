/**
 * The HTTP API: every route of HTTP_ROUTES (lambdas/shared/routes.ts) integrated with the `http`
 * function, a Lambda authorizer on every route whose `auth` is 'user', CORS from props, and a
 * `$default` stage with throttling and JSON access logs.
 */
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HTTP_ROUTES, type HttpOperation } from '../../lambdas/shared/routes.js';
import type { ThrottleProps } from './throttle.js';

const HTTP_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
});

/** Why a route is public at the gateway (cdk-nag APIG4 acknowledgement); one per 'none' route. */
const PUBLIC_ROUTE_REASONS: Partial<Record<HttpOperation, string>> = {
  health:
    'GET /api/health is the unauthenticated liveness probe for load balancers and uptime checks; it returns a constant status and reads no data. Stage throttling bounds abuse.',
  eventsRedirect:
    'GET /api/events only answers 307 to the SSE Function URL and reads no data. Browsers follow it with EventSource, which cannot send an Authorization header, so the token travels in the query string and the SSE function verifies it before it streams a byte (AUTH_MODE=jwt in its environment).',
};

/** How long API Gateway caches an authorizer decision per Authorization header. */
export const AUTHORIZER_CACHE_TTL = Duration.minutes(5);

export interface HttpApiProps {
  handler: lambda.IFunction;
  /** Lambda authorizer (payload 2.0, simple responses) of the routes with auth 'user'. */
  authorizerHandler: lambda.IFunction;
  corsOrigins: string[];
  throttle: ThrottleProps;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
}

export class ChatHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'Chat REST API',
      createDefaultStage: false,
      corsPreflight:
        props.corsOrigins.length > 0
          ? {
              allowOrigins: props.corsOrigins,
              allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.DELETE, apigwv2.CorsHttpMethod.OPTIONS],
              allowHeaders: ['content-type', 'authorization'],
              maxAge: Duration.hours(1),
            }
          : undefined,
    });

    // `Authorization: Bearer <token>`; a request without the header is refused with 401 before the
    // authorizer runs, a bad token with 403 (`isAuthorized: false`). Decisions are cached per header
    // value for AUTHORIZER_CACHE_TTL, so a revoked or just-expired token can still pass for up to
    // that long; a fault (authorizer error, 500) is not cached.
    this.authorizer = new HttpLambdaAuthorizer('UserAuthorizer', props.authorizerHandler, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: AUTHORIZER_CACHE_TTL,
    });

    const integration = new HttpLambdaIntegration('HttpIntegration', props.handler);
    for (const route of HTTP_ROUTES) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration,
        authorizer: route.auth === 'user' ? this.authorizer : undefined,
      });
      if (route.auth === 'none') {
        const reason = PUBLIC_ROUTE_REASONS[route.operation];
        if (!reason) {
          throw new Error(
            `HTTP route ${route.method} ${route.path} has auth 'none' but no reason in PUBLIC_ROUTE_REASONS (lib/constructs/http-api.ts)`,
          );
        }
        Validations.of(created!).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      }
    }

    // Everything else reaches the handler too, so an unknown path or a wrong method gets the
    // service's JSON error (404/405 {"error": {...}}) instead of API Gateway's bare "Not Found".
    const catchAll = new apigwv2.HttpRoute(this, 'CatchAllRoute', {
      httpApi: this.api,
      routeKey: apigwv2.HttpRouteKey.DEFAULT,
      integration,
    });
    Validations.of(catchAll).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        '$default only answers requests that match no route of HTTP_ROUTES: the handler returns a JSON 404/405 error and reads no data. Stage throttling bounds abuse.',
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(HTTP_ACCESS_LOG_FORMAT),
      },
    });
  }

  /** Base URL of the $default stage (ends with a slash). */
  get url(): string {
    return this.stage.url;
  }
}

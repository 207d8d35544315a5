/**
 * The WebSocket API: route selection on `$request.body.action`, one route per key of WS_ROUTES
 * (lambdas/shared/routes.ts), a Lambda authorizer on `$connect` (token in the `token` query
 * string parameter), a stage with default route throttling and JSON access logs.
 */
import { type CfnElement, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionName, WS_ROUTE_SELECTION_EXPRESSION, WS_ROUTES } from '../../lambdas/shared/routes.js';
import type { ThrottleProps } from './throttle.js';

/** Route keys whose Lambda result is sent back to the client as the route response. */
const NO_RESPONSE_ROUTES = new Set(['$connect', '$disconnect']);

/** The only route of a WebSocket API that can have an authorizer. */
const CONNECT_ROUTE = '$connect';

/**
 * Browsers cannot set headers on the WebSocket handshake, so the token travels in the query
 * string; a handshake without it is refused with 401 before the authorizer runs, one with a bad
 * token with 403 (the authorizer answers a Deny policy rather than throwing, so a client's bad
 * token is not a function error).
 */
export const WS_IDENTITY_SOURCE = ['route.request.querystring.token'];

/** WebSocket access log line (JSON); `$context` variables of WebSocket APIs. */
const WS_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTimeEpoch',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  connectionId: '$context.connectionId',
  messageId: '$context.messageId',
  status: '$context.status',
  sourceIp: '$context.identity.sourceIp',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  integrationError: '$context.integration.error',
  error: '$context.error.message',
});

export interface WebSocketApiProps {
  functions: Record<FunctionName, lambda.IFunction>;
  /** REQUEST authorizer of `$connect`. */
  authorizerHandler: lambda.IFunction;
  stageName: string;
  throttle: ThrottleProps;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  /**
   * WebSocket access logging needs the account-level API Gateway CloudWatch Logs role, one per
   * account and region, shared by every REST and WebSocket API there. When true the stack creates a
   * role and points the account setting at it (AWS::ApiGateway::Account, retained with the stack).
   * Off by default, as in CDK itself: turn it on only where no role is set yet (the stage then
   * fails to deploy with "CloudWatch Logs role ARN must be set in account settings").
   */
  manageAccountCloudWatchRole: boolean;
}

export class ChatWebSocketApi extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly accessLogs: logs.LogGroup;
  readonly authorizer: WebSocketLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id);

    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      description: 'Chat WebSocket API',
      routeSelectionExpression: WS_ROUTE_SELECTION_EXPRESSION,
    });

    this.authorizer = new WebSocketLambdaAuthorizer('ConnectAuthorizer', props.authorizerHandler, {
      identitySource: WS_IDENTITY_SOURCE,
    });

    const integrations = new Map<FunctionName, WebSocketLambdaIntegration>();
    for (const route of WS_ROUTES) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new WebSocketLambdaIntegration(`${route.fn}Integration`, props.functions[route.fn]);
        integrations.set(route.fn, integration);
      }
      const isConnect = route.routeKey === CONNECT_ROUTE;
      const created = this.api.addRoute(route.routeKey, {
        integration,
        authorizer: isConnect ? this.authorizer : undefined,
        // Handlers of $default and the action routes return the reply frame as the route response.
        returnResponse: !NO_RESPONSE_ROUTES.has(route.routeKey),
      });
      if (!isConnect) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `WebSocket APIs accept an authorizer on $connect only. '${route.routeKey}' runs on a connection that the $connect Lambda authorizer already authenticated (token verified, identity stored with the connection), and API Gateway routes no frame to it from an unauthenticated client.`,
        });
      }
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(WS_ACCESS_LOG_FORMAT),
      },
    });

    if (props.manageAccountCloudWatchRole) {
      const role = new iam.Role(this, 'ApiGatewayCloudWatchRole', {
        assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        managedPolicies: [
          iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
        ],
      });
      // The account setting outlives the stack, so the role it points to must too.
      role.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const account = new apigw.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
      account.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.stage.node.addDependency(account);
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'API Gateway account-level CloudWatch role: AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for exactly this role, and the log groups it writes to are created by API Gateway at run time, so they cannot be listed in a custom policy.',
      });
    }
  }

  /** https endpoint of the @connections management API of the stage. */
  get managementEndpoint(): string {
    return this.stage.callbackUrl;
  }

  /** wss:// URL clients connect to. */
  get url(): string {
    return this.stage.url;
  }

  /**
   * Allows PostToConnection / GetConnection / DeleteConnection on this stage only (narrower than
   * WebSocketApi.grantManageConnections, which covers every stage).
   */
  grantManageConnections(fn: lambda.IFunction): iam.Grant {
    const grant = this.stage.grantManagementApiAccess(fn);
    if (fn.role) {
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${this.manageConnectionsArnForNag()}]`,
        reason:
          'execute-api:ManageConnections is scoped to this API and stage; the remaining wildcards are the HTTP method (POST/GET/DELETE are all used: post, probe, drop stale) and the connection id, which is only known at run time.',
      });
    }
    return grant;
  }

  /** The ARN of grantManagementApiAccess as cdk-nag renders it in the IAM5 finding id. */
  private manageConnectionsArnForNag(): string {
    const stack = Stack.of(this);
    const part = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
    const apiLogicalId = stack.getLogicalId(this.api.node.defaultChild as CfnElement);
    return [
      'arn',
      part(stack.partition, 'AWS::Partition'),
      'execute-api',
      part(stack.region, 'AWS::Region'),
      part(stack.account, 'AWS::AccountId'),
      `<${apiLogicalId}>/${this.stage.stageName}/*/@connections/*`,
    ].join(':');
  }
}

/**
 * The SSE stream: the `sse` function behind a Lambda Function URL with response streaming (HTTP
 * APIs cannot stream). The Function URL preserves the path, so the stream is at `<url>/api/events`.
 */
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SSE_PATH } from '../../lambdas/shared/routes.js';

export interface SseProps {
  handler: lambda.IFunction;
  corsOrigins: string[];
}

export class SseEndpoint extends Construct {
  readonly functionUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: SseProps) {
    super(scope, id);
    this.functionUrl = new lambda.FunctionUrl(this, 'Url', {
      function: props.handler,
      // No IAM auth: EventSource cannot sign requests with SigV4. The handler verifies the token
      // (query string `token` or `Authorization: Bearer`) before it streams a byte; the stack
      // gives it AUTH_MODE=jwt and the key source (lib/access.ts: auth 'verify'), and without them
      // the handler refuses every request (auth fails closed).
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      cors:
        props.corsOrigins.length > 0
          ? {
              allowedOrigins: props.corsOrigins,
              allowedMethods: [lambda.HttpMethod.GET],
              allowedHeaders: ['last-event-id', 'cache-control', 'content-type', 'authorization'],
              maxAge: Duration.hours(1),
            }
          : undefined,
    });
  }

  /** Full URL of the SSE stream: Function URL (ends with a slash) + SSE_PATH. */
  get streamUrl(): string {
    return `${this.functionUrl.url}${SSE_PATH.replace(/^\//, '')}`;
  }
}

/**
 * Alarms and the SNS topic they notify. They page on faults of the service only, never on a client's
 * mistake: dead-letter queue depth, each function's errors (the authorizer answers a bad token with
 * a deny, so its errors are faults: no configuration, SSM or JWKS unreachable) and throttles, errors
 * the functions log (a fault they answered with 5xx, e.g. a `$connect` whose DynamoDB write
 * failed), HTTP API 5xx, and WebSocket `ExecutionError` (API Gateway could not run an
 * integration). Not WebSocket `IntegrationError`: it also counts every `$connect` answered 4xx (a
 * refused origin or room), which are client mistakes.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

const PERIOD = Duration.minutes(1);

/** Errors logged by any function (Powertools JSON logs, `level` ERROR), one metric for all. */
export const LOGGED_ERRORS_METRIC = { namespace: 'ChatService', metricName: 'LoggedErrors' } as const;

export interface MonitoringProps {
  /** Functions by a readable name used in alarm descriptions and ids. */
  functions: Record<string, lambda.IFunction>;
  deadLetterQueues: Record<string, sqs.IQueue>;
  httpApi: apigwv2.HttpApi;
  webSocketStage: apigwv2.WebSocketStage;
  /** Optional e-mail subscription of the alarm topic. */
  alarmEmail?: string;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The function's own log group (ChatFunction gives every function one). */
function logGroupOf(name: string, fn: lambda.IFunction): logs.ILogGroup {
  // Function.logGroup returns the configured group; only a function without one would get a
  // LogRetention custom resource, and the template test checks there is none.
  if (!(fn instanceof lambda.Function)) throw new Error(`Monitoring: function '${name}' has no log group to watch`);
  return fn.logGroup;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Chat service alarms',
      enforceSSL: true,
    });
    // The topic has a resource policy (enforceSSL), so CloudWatch alarms of this account are
    // allowed to publish explicitly (scoped against the confused-deputy problem).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
        },
      }),
    );
    if (props.alarmEmail) {
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry only alarm names and metric states, no user data. CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key would cost more than the data warrants.',
    });

    const action = new SnsAction(this.topic);
    const add = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      return alarm;
    };

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      add(
        `${upperFirst(name)}DlqDepth`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
        `Messages in the ${name} dead-letter queue: tasks failed on every retry.`,
      );
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      add(
        `${upperFirst(name)}Errors`,
        fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        `The ${name} function reported errors.`,
      );
      add(
        `${upperFirst(name)}Throttles`,
        fn.metricThrottles({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        `The ${name} function was throttled.`,
      );
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      new logs.MetricFilter(this, `${upperFirst(name)}LoggedErrors`, {
        logGroup: logGroupOf(name, fn),
        filterPattern: logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
        metricNamespace: LOGGED_ERRORS_METRIC.namespace,
        metricName: LOGGED_ERRORS_METRIC.metricName,
        metricValue: '1',
      });
    }
    add(
      'LoggedErrors',
      new cloudwatch.Metric({ ...LOGGED_ERRORS_METRIC, period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      'A function logged an error: a fault it answered with 5xx or could not recover from. Find it with Logs Insights (filter level = "ERROR") over the function log groups.',
    );

    add(
      'HttpApi5xx',
      props.httpApi.metricServerError({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      'The HTTP API answered with 5xx errors.',
    );
    add(
      'WebSocketExecutionErrors',
      props.webSocketStage.metric('ExecutionError', { period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      'The WebSocket API could not run a Lambda integration (function error, throttle or permission).',
    );
  }
}

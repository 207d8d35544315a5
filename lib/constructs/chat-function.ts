/**
 * Shared defaults for every Lambda function of the service: Node.js 24 on arm64, an ESM bundle
 * (lib/bundling.ts: minified, tree-shaken, no source map, the AWS SDK bundled as published), an
 * explicit log group with retention, and an execution role that may write to that log group only
 * (no AWSLambdaBasicExecutionRole managed policy).
 *
 * Entry, memory and timeout come from FUNCTIONS in lambdas/shared/routes.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTIONS, type FunctionName } from '../../lambdas/shared/routes.js';
import { bundlingOptionsFor, handlerEntry, PROJECT_ROOT } from '../bundling.js';

export { handlerEntry, PROJECT_ROOT };

export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * Lambda's own log lines at WARN and above only (JSON log format): no START/END/REPORT lines per
 * invocation, about 300 bytes that cost as much as a small room's DynamoDB reads (bench/cost.ts;
 * docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html). Duration,
 * errors and throttles stay in CloudWatch metrics; the functions' own logs (JSON from Powertools,
 * INFO and above) and the logged-errors alarm are unchanged.
 */
export const SYSTEM_LOG_LEVEL = lambda.SystemLogLevel.WARN;

export interface ChatFunctionProps {
  /** Key in FUNCTIONS. */
  name: FunctionName;
  /** Environment variables common to every function plus per-function ones. */
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  /** Removal policy of the log group. */
  logRemovalPolicy: RemovalPolicy;
  /** Reserved concurrency (a cap, and a guarantee); undefined: the account's unreserved pool. */
  reservedConcurrency?: number;
}

export class ChatFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;
  readonly name: FunctionName;

  constructor(scope: Construct, id: string, props: ChatFunctionProps) {
    super(scope, id);
    const spec = FUNCTIONS[props.name];
    this.name = props.name;
    const entry = handlerEntry(props.name);
    if (!existsSync(entry)) {
      throw new Error(`Handler module for function '${props.name}' not found: ${entry}`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.name} function`,
    });
    // Replaces AWSLambdaBasicExecutionRole: write to this function's own log group only.
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: spec.memoryMb,
      reservedConcurrentExecutions: props.reservedConcurrency,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: props.environment,
      bundling: bundlingOptionsFor(props.name),
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: SYSTEM_LOG_LEVEL,
    });
    // The role must exist with its log permissions before the function is created.
    this.fn.node.addDependency(this.role);
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs24.x is pinned on purpose: the tests and the local runtime run on the same Node major (the `node` package pinned in package.json), so a runtime upgrade is a deliberate change made in both places, not a drift the pipeline should force.',
    });
  }
}

/**
 * Shared defaults for every Lambda function of the service: Node.js 22 on arm64, an ESM bundle
 * (minified, tree-shaken, no source map), an explicit log group with retention, and an execution
 * role that may write to that log group only (no AWSLambdaBasicExecutionRole managed policy).
 *
 * Entry, memory and timeout come from FUNCTIONS in lambdas/shared/routes.ts.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTIONS, type FunctionName } from '../../lambdas/shared/routes.js';

/** Repository root (holds package-lock.json and lambdas/). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of the handler module of a function. */
export function handlerEntry(name: FunctionName): string {
  return fileURLToPath(new URL(`../../lambdas/handlers/${FUNCTIONS[name].entry}.ts`, import.meta.url));
}

/**
 * ESM bundles have no `require`; some CommonJS dependencies call it for Node built-ins, so the
 * banner defines one from `import.meta.url`.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __chatCreateRequire } from 'node:module';const require = __chatCreateRequire(import.meta.url);";

export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

export interface ChatFunctionProps {
  /** Key in FUNCTIONS. */
  name: FunctionName;
  /** Environment variables common to every function plus per-function ones. */
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  /** Removal policy of the log group. */
  logRemovalPolicy: RemovalPolicy;
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
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
      environment: props.environment,
      bundling: {
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: false,
        target: 'node22',
        // Bundle the pinned AWS SDK v3 (package.json) instead of the runtime's copy, so the code
        // that runs on Lambda is the code the tests ran against.
        bundleAwsSDK: true,
        esbuildArgs: { '--tree-shaking': 'true' },
      },
    });
    // The role must exist with its log permissions before the function is created.
    this.fn.node.addDependency(this.role);
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is pinned on purpose: it is a supported LTS runtime (deprecation 2027-04-30), and the toolchain (middy 6, vitest 4, local runs on Node 20/22) is verified against it. Moving to nodejs24.x is a deliberate upgrade, not a drift the pipeline should force.',
    });
  }
}

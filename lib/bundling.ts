/**
 * How each function is bundled, in one place: NodejsFunction (lib/constructs/chat-function.ts)
 * takes `bundlingOptionsFor(name)`, and the benchmark (bench/bundle-sizes.ts) builds with
 * `esbuildOptionsFor(name)`, the same settings in esbuild's JS API form, so it measures the bundles
 * that get deployed.
 *
 * Settings: an ESM bundle for Node 24, minified, tree-shaken, no source map, with the pinned AWS
 * SDK bundled. Aliases swap modules that cannot run, or are not allowed to run, on Lambda for
 * small stand-ins from lambdas/shims (the local runtime and the tests import the real modules):
 * - `@aws-sdk/credential-provider-node` → environment credentials only (what Lambda provides);
 *   drops the SSO/STS/sign-in clients, ini/process/web-identity providers and IMDS;
 * - `@smithy/core/event-streams` → a stub (no service used here has event stream operations);
 * - `@aws-sdk/client-ssm` → one signed GetParameter call (the only SSM call, for the HS256
 *   secret);
 * - `mnemonist/lru-cache` (DynamoDB endpoint discovery cache) → the same LRU on a Map;
 * - the SQS and @connections clients → AccessDenied stand-ins in functions whose ACCESS entry
 *   (lib/access.ts) does not allow them: IAM would refuse the call anyway.
 */
import { fileURLToPath } from 'node:url';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';
import { ACCESS } from './access.js';

/** Repository root (holds package-lock.json and lambdas/); esbuild runs here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Performance target (README): every bundle stays under this size. */
export const BUNDLE_BUDGET_BYTES = 300 * 1024;

/** Node version of the Lambda runtime (lib/constructs/chat-function.ts: NODEJS_24_X). */
export const BUNDLE_TARGET = 'node24';

/** Absolute path of the handler module of a function. */
export function handlerEntry(name: FunctionName): string {
  return fileURLToPath(new URL(`../lambdas/handlers/${FUNCTIONS[name].entry}.ts`, import.meta.url));
}

const shim = (file: string) => fileURLToPath(new URL(`../lambdas/shims/${file}`, import.meta.url));

/**
 * ESM bundles have no `require`; some CommonJS dependencies call it for Node built-ins, so the
 * banner defines one from `import.meta.url`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __chatCreateRequire } from 'node:module';const require = __chatCreateRequire(import.meta.url);";

/** Module → stand-in of a function's bundle (absolute paths). */
export function aliasesFor(name: FunctionName): Record<string, string> {
  const access = ACCESS[name];
  const alias: Record<string, string> = {
    '@aws-sdk/credential-provider-node': shim('credential-provider-env-only.ts'),
    '@smithy/core/event-streams': shim('event-streams-unsupported.ts'),
    '@aws-sdk/client-ssm': shim('ssm-get-parameter.ts'),
    'mnemonist/lru-cache': shim('lru-cache.ts'),
  };
  if (!access.sendTasks) alias['@aws-sdk/client-sqs'] = shim('client-sqs-denied.ts');
  if (!access.manageConnections) {
    alias['@aws-sdk/client-apigatewaymanagementapi'] = shim('client-apigatewaymanagementapi-denied.ts');
  }
  return alias;
}

/** The settings both forms below are built from. */
interface BundleSettings {
  entry: string;
  external: string[];
  target: string;
  minify: boolean;
  mainFields: string[];
  banner: string;
  alias: Record<string, string>;
}

function settingsFor(name: FunctionName): BundleSettings {
  return {
    entry: handlerEntry(name),
    external: [],
    target: BUNDLE_TARGET,
    minify: true,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    alias: aliasesFor(name),
  };
}

/** NodejsFunction `bundling` of a function (CDK runs the esbuild CLI with these). */
export function bundlingOptionsFor(name: FunctionName): BundlingOptions {
  const s = settingsFor(name);
  return {
    format: OutputFormat.ESM,
    mainFields: s.mainFields,
    banner: s.banner,
    minify: s.minify,
    sourceMap: false,
    target: s.target,
    // Bundle the pinned AWS SDK v3 (package.json) instead of the runtime's copy, so the code that
    // runs on Lambda is the code the tests ran against.
    bundleAwsSDK: true,
    esbuildArgs: {
      '--tree-shaking': 'true',
      // Rendered by CDK as one `--alias:<module>=<path>` argument per entry.
      '--alias': Object.entries(s.alias).map(([from, to]) => `${from}=${to}`),
    },
  };
}

/**
 * The same bundle with esbuild's JS API: what CDK's `esbuild --bundle <entry> --target=...
 * --platform=node --format=esm --outfile=<dir>/index.mjs --minify --banner:js=... --main-fields=...
 * --tree-shaking=true --alias:...` does, run from the project root.
 */
export function esbuildOptionsFor(name: FunctionName, outfile = 'index.mjs'): BuildOptions & { outfile: string } {
  const s = settingsFor(name);
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [s.entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: s.target,
    outfile,
    minify: s.minify,
    mainFields: s.mainFields,
    banner: { js: s.banner },
    treeShaking: true,
    alias: s.alias,
    external: s.external,
    logLevel: 'silent',
  };
}

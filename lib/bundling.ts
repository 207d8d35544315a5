/**
 * How each function is bundled, in one place: NodejsFunction (lib/constructs/chat-function.ts)
 * takes `bundlingOptionsFor(name)`, and the benchmark (bench/bundle-sizes.ts) builds with
 * `esbuildOptionsFor(name)`, the same settings in esbuild's JS API form, so it measures the bundles
 * that get deployed.
 *
 * Settings: an ESM bundle for Node 24, minified, tree-shaken, no source map, with the pinned AWS
 * SDK bundled as published (no module swapped for a stand-in). What keeps a bundle small is its
 * composition root (lambdas/roots): a function imports only the adapters it builds, so esbuild
 * leaves out the SDK clients it never calls.
 */
import { fileURLToPath } from 'node:url';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';

/** Repository root (holds package-lock.json and lambdas/); esbuild runs here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));


/** Node version of the Lambda runtime (lib/constructs/chat-function.ts: NODEJS_24_X). */
export const BUNDLE_TARGET = 'node24';

/** Absolute path of the handler module of a function. */
export function handlerEntry(name: FunctionName): string {
  return fileURLToPath(new URL(`../lambdas/handlers/${FUNCTIONS[name].entry}.ts`, import.meta.url));
}

/**
 * ESM bundles have no `require`; some CommonJS dependencies call it for Node built-ins, so the
 * banner defines one from `import.meta.url`.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __chatCreateRequire } from 'node:module';const require = __chatCreateRequire(import.meta.url);";

/** The settings both forms below are built from. */
interface BundleSettings {
  entry: string;
  external: string[];
  target: string;
  minify: boolean;
  mainFields: string[];
  banner: string;
}

function settingsFor(name: FunctionName): BundleSettings {
  return {
    entry: handlerEntry(name),
    external: [],
    target: BUNDLE_TARGET,
    minify: true,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
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
    esbuildArgs: { '--tree-shaking': 'true' },
  };
}

/**
 * The same bundle with esbuild's JS API: what CDK's `esbuild --bundle <entry> --target=...
 * --platform=node --format=esm --outfile=<dir>/index.mjs --minify --banner:js=... --main-fields=...
 * --tree-shaking=true` does, run from the project root.
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
    external: s.external,
    logLevel: 'silent',
  };
}

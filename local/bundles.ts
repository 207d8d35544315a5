/**
 * The functions' code as deployed: the esbuild bundle of each handler with the very options CDK
 * uses (lib/bundling.ts `esbuildOptionsFor`: ESM, minified, tree-shaken, the module aliases that
 * swap in the small SSM client and leave out the SDK clients a function has no grant for). A
 * sandbox loads its bundle, so what runs locally is what Lambda runs, and a cold start loads one
 * file instead of transpiling the sources and resolving hundreds of modules.
 *
 * Bundles are cached in `.local-data/bundles/<hash>/`, the hash covering every source the bundles
 * are built from (lambdas/, lib/bundling.ts, lib/access.ts, package-lock.json).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';
import { PROJECT_ROOT } from './template.js';

function sourcesHash(): string {
  const hash = createHash('sha256');
  const add = (file: string) => hash.update(path.relative(PROJECT_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else add(full);
    }
  };
  walk(path.join(PROJECT_ROOT, 'lambdas'));
  for (const file of ['lib/bundling.ts', 'lib/access.ts', 'package-lock.json']) add(path.join(PROJECT_ROOT, file));
  return hash.digest('hex').slice(0, 20);
}

export function bundlesDir(): string {
  return process.env.CHAT_BUNDLE_CACHE ?? path.join(PROJECT_ROOT, '.local-data', 'bundles');
}

/** The bundle file of every function, built (all at once) when the sources changed. */
export async function functionBundles(): Promise<Record<FunctionName, string>> {
  const dir = path.join(bundlesDir(), sourcesHash());
  const names = Object.keys(FUNCTIONS) as FunctionName[];
  const files = Object.fromEntries(names.map((name) => [name, path.join(dir, name, 'index.mjs')])) as Record<FunctionName, string>;
  if (names.every((name) => existsSync(files[name]))) return files;
  const [{ build }, { esbuildOptionsFor }] = await Promise.all([import('esbuild'), import('../lib/bundling.js')]);
  // Built next to the final folder, then renamed: a parallel run never loads half a bundle.
  const tmp = `${dir}.${process.pid}.tmp`;
  await Promise.all(names.map((name) => build(esbuildOptionsFor(name, path.join(tmp, name, 'index.mjs')))));
  mkdirSync(path.dirname(dir), { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch (error) {
    // Another process finished first: use its bundles.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(files[names[0]!])) throw error;
  }
  return files;
}

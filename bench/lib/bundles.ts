/**
 * Bundles for the bench's host processes, built with esbuild like the deployed ones:
 * - `handlerBundle(fn)`: the function exactly as deployed (lib/bundling.ts options), plus, with
 *   `instrument`, `addClientMiddleware` exported from the same module graph, so a host can count
 *   the AWS requests of the very clients the handler uses;
 * - `hostBundle()`: bench/lib/host.ts itself, so hosts run on plain `node` without a TypeScript
 *   loader in the way of what they measure.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FunctionName } from '../../lambdas/shared/routes.js';
import { esbuildOptionsFor, handlerEntry, PROJECT_ROOT } from '../../lib/bundling.js';

export const OUT_DIR = join(PROJECT_ROOT, 'bench', 'out');

const built = new Map<string, Promise<string>>();

export function handlerBundle(fn: FunctionName, options: { instrument?: boolean } = {}): Promise<string> {
  const key = `${fn}:${options.instrument ? 'i' : 'd'}`;
  let file = built.get(key);
  if (!file) {
    file = (async () => {
      const dir = join(OUT_DIR, 'hosted', options.instrument ? `${fn}-instrumented` : fn);
      const outfile = join(dir, 'index.mjs');
      mkdirSync(dir, { recursive: true });
      const base = esbuildOptionsFor(fn, outfile);
      if (options.instrument) {
        const entry = join(dir, 'entry.mjs');
        const clients = fileURLToPath(new URL('../../lambdas/adapters/clients.ts', import.meta.url));
        writeFileSync(entry, `export { handler } from ${JSON.stringify(handlerEntry(fn))};\nexport { addClientMiddleware } from ${JSON.stringify(clients)};\n`);
        await build({ ...base, entryPoints: [entry] });
      } else {
        await build(base);
      }
      return outfile;
    })();
    built.set(key, file);
  }
  return file;
}

let host: Promise<string> | undefined;

export function hostBundle(): Promise<string> {
  host ??= (async () => {
    const outfile = join(OUT_DIR, 'host', 'host.mjs');
    await build({
      absWorkingDir: PROJECT_ROOT,
      entryPoints: [fileURLToPath(new URL('./host.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      banner: { js: "import { createRequire as __benchRequire } from 'node:module';const require = __benchRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    return outfile;
  })();
  return host;
}

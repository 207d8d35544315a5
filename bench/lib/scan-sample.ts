/** Bundle of the Scan-per-message sample (./scan-sample-handler.ts) for a bench host. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../../lib/bundling.js';
import { OUT_DIR } from './bundles.js';

let bundle: Promise<string> | undefined;

export function scanSampleBundle(): Promise<string> {
  bundle ??= (async () => {
    const outfile = join(OUT_DIR, 'hosted', 'scan-sample', 'index.mjs');
    await build({
      absWorkingDir: PROJECT_ROOT,
      entryPoints: [fileURLToPath(new URL('./scan-sample-handler.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      outfile,
      banner: { js: "import { createRequire as __benchRequire } from 'node:module';const require = __benchRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    return outfile;
  })();
  return bundle;
}

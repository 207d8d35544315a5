/**
 * Builds the chat page's script from its TypeScript source: local/public/app.ts and what it imports
 * (the client package in client/src, the service's media formats and limits) bundled by esbuild
 * into one browser module. Nothing is committed: the local runtime bundles it when `app.js` is
 * requested (cached until one of its source files changes), and tests build it the same way.
 *
 *   npx tsx local/page/build.ts <dir>   write index.html, style.css and app.js into <dir>, for any
 *                                       static file server
 */
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PUBLIC_DIR = path.join(ROOT, 'local/public');
export const ENTRY = path.join(PUBLIC_DIR, 'app.ts');

export interface PageBundle {
  code: string;
  /** Absolute paths of every source file in the bundle. */
  inputs: string[];
}

/** Bundles one TypeScript entry for the browser (ES module, inline source map for debugging). */
export async function bundleScript(entry: string = ENTRY, options: { sourcemap?: boolean } = {}): Promise<PageBundle> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    sourcemap: options.sourcemap === false ? false : 'inline',
    metafile: true,
    write: false,
    outdir: path.join(ROOT, '.page-out'),
    logLevel: 'silent',
  });
  const output = result.outputFiles.find((file) => file.path.endsWith('.js'));
  if (!output) throw new Error(`esbuild produced no JavaScript for ${entry}`);
  const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(ROOT, input));
  return { code: output.text, inputs };
}

interface Cached {
  bundle: PageBundle;
  mtimes: number[];
}

const cache = new Map<string, Cached>();

async function mtimesOf(files: string[]): Promise<number[]> {
  return Promise.all(files.map((file) => stat(file).then((info) => info.mtimeMs).catch(() => -1)));
}

/**
 * The bundle of `entry`, rebuilt only when one of the files it was built from changed since: an
 * edit to the page or to the client shows on the next reload. Never rejects.
 */
export async function cachedBundle(entry: string): Promise<string> {
  const hit = cache.get(entry);
  if (hit) {
    const now = await mtimesOf(hit.bundle.inputs);
    if (now.every((mtime, i) => mtime === hit.mtimes[i])) return hit.bundle.code;
  }
  let bundle: PageBundle;
  try {
    bundle = await bundleScript(entry);
  } catch (error) {
    // Served as a script that throws: the browser's console says what is wrong, and the runtime
    // carries on (the next request tries again).
    cache.delete(entry);
    return `throw new Error(${JSON.stringify(`The page script did not build: ${(error as Error).message}`)});\n`;
  }
  cache.set(entry, { bundle, mtimes: await mtimesOf(bundle.inputs) });
  return bundle.code;
}

async function main(argv: string[]): Promise<void> {
  const dir = argv[0];
  if (!dir) {
    console.error('usage: npx tsx local/page/build.ts <output dir>');
    process.exitCode = 2;
    return;
  }
  const out = path.resolve(dir);
  await mkdir(out, { recursive: true });
  const { code } = await bundleScript(ENTRY, { sourcemap: false });
  await writeFile(path.join(out, 'app.js'), code);
  for (const file of ['index.html', 'style.css']) await copyFile(path.join(PUBLIC_DIR, file), path.join(out, file));
  console.log(`wrote ${path.relative(process.cwd(), out) || '.'}/{index.html,style.css,app.js} (app.js ${code.length} bytes)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}

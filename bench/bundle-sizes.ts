/**
 * Bundle sizes of every Lambda function, bundled exactly as deployed: esbuild's JS API with
 * `esbuildOptionsFor(name)` from lib/bundling.ts, the settings NodejsFunction gets.
 *
 *   npx tsx bench/bundle-sizes.ts [--out <dir>] [--top <n>] [--json]
 *
 * --out writes each bundle to <dir>/<function>/index.mjs (for module-load timing), --top lists the
 * n largest packages of each bundle (from the esbuild metafile), --json prints the results as
 * JSON. Sizes are reported with no target: what users feel is init time (bench/cold-start.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../lambdas/shared/routes.js';
import { esbuildOptionsFor } from '../lib/bundling.js';

export interface BundleSize {
  name: FunctionName;
  bytes: number;
  kb: number;
  /** Bytes in the output per package (node_modules package name, or the project directory). */
  packages: { name: string; bytes: number }[];
  /** Path of the written bundle when `outDir` was given. */
  file?: string;
  /** Every input file that contributed bytes (paths relative to the project root). */
  inputs: string[];
}

export interface MeasureOptions {
  /** Write each bundle to `<outDir>/<function>/index.mjs`. */
  outDir?: string;
  functions?: FunctionName[];
}

const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

function packageOf(input: string): string {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (match) return match[1]!;
  return input.split('/').slice(0, 2).join('/');
}

function byPackage(metafile: Metafile): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** Bundles the functions (all by default) and returns their sizes. */
export async function measureBundles(options: MeasureOptions = {}): Promise<BundleSize[]> {
  const names = options.functions ?? (Object.keys(FUNCTIONS) as FunctionName[]);
  const results: BundleSize[] = [];
  for (const name of names) {
    const file = options.outDir ? join(resolve(options.outDir), name, 'index.mjs') : undefined;
    if (file) mkdirSync(join(resolve(options.outDir!), name), { recursive: true });
    const result = await build({ ...esbuildOptionsFor(name, file ?? `${name}.mjs`), write: false, metafile: true });
    const output = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!;
    if (file) writeFileSync(file, output.contents);
    const bytes = output.contents.byteLength;
    results.push({
      name,
      bytes,
      kb: kb(bytes),
      packages: byPackage(result.metafile),
      file,
      inputs: Object.values(result.metafile.outputs).flatMap((o) =>
        Object.entries(o.inputs)
          .filter(([, v]) => v.bytesInOutput > 0)
          .map(([input]) => input),
      ),
    });
  }
  return results;
}

function table(results: BundleSize[], top: number): string {
  const lines = [`${'function'.padEnd(14)}${'KB'.padStart(8)}`];
  for (const r of results) {
    const largest = r.packages
      .slice(0, top)
      .map((p) => `${p.name} ${kb(p.bytes)}`)
      .join(', ');
    lines.push(
      `${r.name.padEnd(14)}${r.kb.toFixed(1).padStart(8)}${top > 0 ? `  ${largest}` : ''}`,
    );
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const flag = (name: string) => argv.includes(name);
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const results = await measureBundles({ outDir: value('--out') });
  if (flag('--json')) console.log(JSON.stringify(results, null, 2));
  else console.log(table(results, Number(value('--top') ?? 4)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}

/**
 * Time and memory of one preview (decode, box-downscale, encode) as the tasks function runs it: the
 * preview code bundled with the tasks function's esbuild options, run on a photo-like JPEG and PNG
 * of about 5 MB, and the largest PNG and JPEG the pixel cap lets through.
 *
 *   npx tsx scripts/preview-timing.ts
 *
 * Lambda gives a function CPU in proportion to its memory (a full vCPU at 1,769 MB), so at the tasks
 * function's memory expect the times printed here divided by that share of a core.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { esbuildOptionsFor } from '../lib/bundling.js';
import { FUNCTIONS } from '../lambdas/shared/routes.js';

/** Smooth gradients plus per-pixel noise: compresses about as badly as a phone photo. */
function photo(width: number, height: number, noise: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 4) {
      const n = (rand() - 0.5) * noise;
      data[i] = Math.max(0, Math.min(255, (x * 255) / width + n));
      data[i + 1] = Math.max(0, Math.min(255, (y * 255) / height + n));
      data[i + 2] = Math.max(0, Math.min(255, 128 + 100 * Math.sin(x / 50) + n));
      data[i + 3] = 255;
    }
  }
  return data;
}

const dir = mkdtempSync(join(tmpdir(), 'preview-timing-'));
try {
  const outfile = join(dir, 'preview.mjs');
  await build({ ...esbuildOptionsFor('tasks', outfile), entryPoints: ['lambdas/domain/preview-image.ts'] });
  const { makePreview } = (await import(pathToFileURL(outfile).href)) as typeof import('../lambdas/domain/preview-image.js');
  const files = [
    { name: 'JPEG 4000x3000 (12 MP)', format: 'jpg' as const, bytes: jpeg.encode({ width: 4000, height: 3000, data: photo(4000, 3000, 40) }, 92).data },
    { name: 'PNG 1600x1200 (1.9 MP)', format: 'png' as const, bytes: PNG.sync.write(Object.assign(new PNG({ width: 1600, height: 1200 }), { data: photo(1600, 1200, 40) })) },
    // A decode bomb: 40 MP of one colour compresses to 160 KB.
    { name: 'PNG 6400x6250 (40 MP, flat)', format: 'png' as const, bytes: PNG.sync.write(Object.assign(new PNG({ width: 6400, height: 6250 }), { data: Buffer.alloc(6400 * 6250 * 4, 200) })) },
    { name: 'JPEG 7000x5700 (39.9 MP)', format: 'jpg' as const, bytes: jpeg.encode({ width: 7000, height: 5700, data: photo(7000, 5700, 12) }, 80).data },
  ];
  console.log(`tasks function: ${FUNCTIONS.tasks.memoryMb} MB, ${FUNCTIONS.tasks.timeoutSeconds} s; node ${process.version}`);
  for (const file of files) {
    const times: number[] = [];
    let peak = 0;
    let result: ReturnType<typeof makePreview> | undefined;
    for (let run = 0; run < 2; run++) {
      const before = process.memoryUsage();
      const timer = setInterval(() => {
        const now = process.memoryUsage();
        peak = Math.max(peak, now.rss - before.rss);
      }, 5);
      const started = performance.now();
      result = makePreview(Buffer.from(file.bytes), file.format);
      times.push(performance.now() - started);
      peak = Math.max(peak, process.memoryUsage().rss - before.rss);
      clearInterval(timer);
    }
    const made = result?.status === 'made' ? `${result.width}x${result.height}, ${result.dataUrl.length} chars` : result?.status;
    console.log(
      `${file.name}, ${(file.bytes.length / 1024 / 1024).toFixed(1)} MB: ${times.map((t) => Math.round(t)).join(' / ')} ms; RSS growth ~${Math.round(peak / 1024 / 1024)} MB; preview ${made}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

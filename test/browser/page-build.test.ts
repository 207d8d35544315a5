/**
 * The chat page's script is built from its TypeScript sources (local/page/build.ts), never
 * committed: one browser module with the client package inside, rebuilt by the local runtime when a
 * source changes, and written with the page's files into a folder for a static file server.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY, ROOT, bundleScript, cachedBundle } from '../../local/page/build.js';

const temp: string[] = [];
afterAll(async () => {
  for (const dir of temp) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chat-page-build-'));
  temp.push(dir);
  return dir;
}

describe('chat page build', () => {
  it('bundles app.ts with the client package into one module with nothing left to import', async () => {
    const { code, inputs } = await bundleScript(ENTRY, { sourcemap: false });
    expect(code).not.toMatch(/^\s*import\s/m);
    expect(code).not.toMatch(/\bfrom\s*["']\.{1,2}\//);
    const relative = inputs.map((file) => path.relative(ROOT, file));
    expect(relative).toEqual(expect.arrayContaining(['local/public/app.ts', 'client/src/client.ts', 'client/src/generated.ts']));
    // Nothing of the service's AWS side ends up in the page.
    expect(relative.filter((file) => file.includes('node_modules') || file.startsWith('lambdas/handlers') || file.startsWith('lambdas/adapters'))).toEqual([]);
  });

  it('rebuilds the served bundle when a file it imports changes', async () => {
    const dir = await tempDir();
    const entry = path.join(dir, 'entry.ts');
    const dep = path.join(dir, 'dep.ts');
    await writeFile(entry, "import { word } from './dep.js';\ndocument.title = word;\n");
    await writeFile(dep, "export const word: string = 'first';\n");
    expect(await cachedBundle(entry)).toContain('"first"');
    await writeFile(dep, "export const word: string = 'second';\n");
    // A later modification time, whatever the file system's time resolution.
    const later = new Date(Date.now() + 5000);
    await utimes(dep, later, later);
    const rebuilt = await cachedBundle(entry);
    expect(rebuilt).toContain('"second"');
    expect(rebuilt).not.toContain('"first"');
  });

  it('serves a build failure as a script that throws with the reason, then recovers', async () => {
    const dir = await tempDir();
    const entry = path.join(dir, 'entry.ts');
    await writeFile(entry, 'const = 1;\n');
    const failed = await cachedBundle(entry);
    expect(failed).toMatch(/^throw new Error\(".*did not build.*entry\.ts/);
    await writeFile(entry, "document.title = 'fixed';\n");
    expect(await cachedBundle(entry)).toContain('"fixed"');
  });

  it('writes the page into a folder for a static file server', async () => {
    const out = await tempDir();
    await promisify(execFile)(path.join(ROOT, 'node_modules/.bin/tsx'), ['local/page/build.ts', out], { cwd: ROOT });
    expect((await readdir(out)).sort()).toEqual(['app.js', 'index.html', 'style.css']);
    const html = await readFile(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('src="app.js"');
    const app = await readFile(path.join(out, 'app.js'), 'utf8');
    expect(app).not.toMatch(/^\s*import\s/m);
    expect(app).not.toContain('sourceMappingURL');
  });
});

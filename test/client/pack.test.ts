/**
 * The package as users get it: compiled with its own tsconfig, packed with `npm pack`, installed
 * into a fresh folder with `npm install <tarball> --offline` (it has no dependencies), imported by
 * a plain Node.js script that chats with the local runtime, and type-checked from a TypeScript
 * consumer. Its JavaScript and declarations must not reach outside the package.
 */
import '../support/quiet.js';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { startAuthRuntime, uniqueRoom } from './helpers.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const PACKAGE = JSON.parse(readFileSync(path.join(root, 'client/package.json'), 'utf8')) as { name: string };

let rt: Runtime;
let work: string;
let consumer: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'chat-client-pack-'));
  const staged = path.join(work, 'package');
  mkdirSync(staged);
  cpSync(path.join(root, 'client/package.json'), path.join(staged, 'package.json'));
  cpSync(path.join(root, 'client/README.md'), path.join(staged, 'README.md'));
  await run(process.execPath, [tsc, '-p', path.join(root, 'client/tsconfig.json'), '--outDir', path.join(staged, 'dist')]);
  const { stdout } = await run('npm', ['pack', staged, '--pack-destination', work, '--json'], { cwd: work });
  const tarball = path.join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);

  consumer = path.join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund'], { cwd: consumer });
  rt = await startAuthRuntime();
}, 120_000);

afterAll(async () => {
  await rt?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed client', () => {
  it('installs with no dependencies, and neither its JavaScript nor its declarations import anything outside it', () => {
    const installed = path.join(consumer, 'node_modules', PACKAGE.name);
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    const files = readdirSync(path.join(installed, 'dist'));
    expect(files).toContain('index.js');
    expect(files).toContain('index.d.ts');
    for (const file of files) {
      const text = readFileSync(path.join(installed, 'dist', file), 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        expect(match[1], `${file} imports ${match[1]}`).toMatch(/^\.\/[\w.-]+\.js$/);
      }
    }
  });

  it('imports in Node.js 22+ and chats with the service: connect, send (acknowledged), history', async () => {
    const room = uniqueRoom('packed');
    const script = path.join(consumer, 'chat.mjs');
    writeFileSync(
      script,
      `import { ChatClient, LIMITS } from '${PACKAGE.name}';
const [major] = process.versions.node.split('.').map(Number);
const { WS_URL, HTTP_URL, TOKEN, ROOM } = process.env;
const client = new ChatClient({ wsUrl: WS_URL, httpUrl: HTTP_URL, room: ROOM, getToken: () => TOKEN });
const states = [];
client.on('state', ({ state }) => states.push(state));
const message = await client.send('hello from the package');
const pages = [];
for await (const page of client.history({ limit: 10 })) pages.push(page.map((m) => m.id));
client.close();
console.log(JSON.stringify({ major, message, pages, states, frame: LIMITS.wsFrameBytes }));
`,
    );
    const { stdout } = await run(process.execPath, [script], {
      cwd: consumer,
      env: { ...process.env, WS_URL: rt.wsUrl, HTTP_URL: rt.httpUrl, TOKEN: rt.issueToken!('packaged'), ROOM: room },
      timeout: 30_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result.major).toBeGreaterThanOrEqual(22);
    expect(result.message).toMatchObject({ content: 'hello from the package', sender: 'packaged', room });
    expect(result.pages).toEqual([[result.message.id]]);
    expect(result.states).toEqual(['open', 'closed']);
    expect(result.frame).toBe(32 * 1024);
  });

  it('type-checks a TypeScript consumer against its declarations alone', async () => {
    writeFileSync(
      path.join(consumer, 'app.ts'),
      `import { ChatClient, type ChatMessage, type ConnectionState, ChatClientError } from '${PACKAGE.name}';
const client = new ChatClient({ wsUrl: 'wss://example.com/prod', httpUrl: 'https://example.com', getToken: async () => 'token' });
client.on('message', (m: ChatMessage) => m.content.toUpperCase());
client.on('notification', (e) => e.event_type.length);
client.on('state', ({ state }: { state: ConnectionState }) => state);
client.on('error', (e: ChatClientError) => e.code === 'token_refused');
export const sent: Promise<ChatMessage> = client.send({ type: 'image', content: 'iVBOR', format: 'png' });
// @ts-expect-error: not a message type of the service
client.send({ type: 'video', content: '' });
`,
    );
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, types: [] },
        files: ['app.ts'],
      }),
    );
    const result = await run(process.execPath, [tsc, '-p', consumer]).catch((error: { stdout: string }) => error);
    expect((result as { stdout: string }).stdout).toBe('');
  });
});

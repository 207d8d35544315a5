/**
 * The compiled client in a real browser (headless Chromium from @sparticuz/chromium, or
 * CHROMIUM_PATH, driven by playwright-core), loaded as plain ES modules from a page on another
 * origin than the service, as an app would: CORS on the HTTP API and the Function URL, the
 * `$connect` Origin check, the browser's own WebSocket and fetch. A refused token is the case the
 * token probe exists for: the browser only sees a close before open, never the 401/403.
 */
import '../support/quiet.js';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Chromium from '@sparticuz/chromium';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.js';
import { closeClients, recordedClient, startAuthRuntime, uniqueRoom } from './helpers.js';
import { padTo, png } from '../support/media.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

let work: string;
let server: Server;
let origin: string;
let rt: Runtime;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const INDEX = `<!doctype html><meta charset="utf-8"><title>client</title>
<script type="module">
  import * as chat from './dist/index.js';
  window.chat = chat;
  document.body.dataset.ready = 'true';
</script><body></body>`;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'chat-client-browser-'));
  await promisify(execFile)(process.execPath, [tsc, '-p', path.join(root, 'client/tsconfig.json'), '--outDir', path.join(work, 'dist')]);
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(INDEX);
      return;
    }
    const file = path.join(work, path.normalize(url.pathname));
    if (!file.startsWith(path.join(work, 'dist')) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rt = await startAuthRuntime({ corsOrigins: [origin] });

  const executablePath = process.env.CHROMIUM_PATH ?? (await Chromium.executablePath());
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--no-zygote', '--disable-gpu', '--disable-background-networking', '--disable-sync', '--no-first-run'],
    timeout: 60_000,
  });
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.body?.dataset.ready === 'true', undefined, { timeout: 15_000 });
}, 120_000);

afterAll(async () => {
  closeClients();
  await browser?.close().catch(() => undefined);
  await rt?.stop();
  await new Promise((resolve) => server?.close(resolve));
  if (work) rmSync(work, { recursive: true, force: true });
});

interface PageSetup {
  wsUrl: string;
  httpUrl: string;
  sseUrl: string;
  room: string;
  token: string;
}

describe('the client in a browser', () => {
  it('connects from another origin, sends over WebSocket and REST, receives, pages history and reads SSE', async () => {
    const room = uniqueRoom('browser');
    const setup: PageSetup = { wsUrl: rt.wsUrl, httpUrl: rt.httpUrl, sseUrl: rt.sseUrl, room, token: rt.issueToken!('browser') };
    const image = padTo(png(), 40 * 1024).toString('base64');
    // In the page: connect, wait for open, send a text and an image (too large for a frame: REST).
    const sent = await page.evaluate(
      async ({ setup, image }) => {
        const { ChatClient } = (window as unknown as { chat: typeof import('../../client/src/index.js') }).chat;
        const client = new ChatClient({ ...setup, getToken: () => setup.token });
        const w = window as unknown as Record<string, unknown>;
        const received: unknown[] = [];
        w.client = client;
        w.received = received;
        client.on('message', (m) => received.push(m));
        await new Promise<void>((resolve) => client.once('state', () => resolve()));
        const text = await client.send('from the browser');
        const picture = await client.send({ type: 'image', content: image, format: 'png' });
        return { state: client.state, ids: [text.id, picture.id] };
      },
      { setup, image },
    );
    expect(sent.state).toBe('open');

    // A Node client in the same room sends; the page receives it after its own two.
    const node = recordedClient(rt, { room, getToken: () => rt.issueToken!('node') });
    const fromNode = await node.client.send('from node');
    await page.waitForFunction((n) => ((window as unknown as { received: unknown[] }).received.length >= n), 3, { timeout: 15_000 });
    const received = await page.evaluate(() => (window as unknown as { received: Array<{ id: string }> }).received.map((m) => m.id));
    expect(received).toEqual([...sent.ids, fromNode.id]);

    // History pages and the SSE stream (Last-Event-ID: a CORS preflight the Function URL allows).
    const read = await page.evaluate(async (after) => {
      const client = (window as unknown as { client: import('../../client/src/index.js').ChatClient }).client;
      const pages: string[][] = [];
      for await (const p of client.history({ limit: 2 })) pages.push(p.map((m) => m.id));
      const controller = new AbortController();
      const events: string[] = [];
      for await (const event of client.events({ lastEventId: after, signal: controller.signal })) {
        events.push(event.id);
        if (events.length === 2) controller.abort();
      }
      client.close();
      return { pages, events };
    }, sent.ids[0]!);
    expect(read.pages).toEqual([[sent.ids[1], fromNode.id], [sent.ids[0]]]);
    expect(read.events).toEqual([sent.ids[1], fromNode.id]);
    expect(pageErrors).toEqual([]);
  });

  it('stops with token_refused when the service refuses the token, though the browser only sees a close', async () => {
    const setup = { wsUrl: rt.wsUrl, httpUrl: rt.httpUrl, sseUrl: rt.sseUrl, room: uniqueRoom('refused'), token: 'not-a-token' };
    const outcome = await page.evaluate(async (setup) => {
      const { ChatClient } = (window as unknown as { chat: typeof import('../../client/src/index.js') }).chat;
      const client = new ChatClient({ ...setup, getToken: () => setup.token });
      const states: string[] = [];
      client.on('state', ({ state }) => states.push(state));
      const error = await new Promise<{ code: string; status?: number; message: string }>((resolve) => client.on('error', resolve));
      return { code: error.code, status: error.status, message: error.message, states, state: client.state };
    }, setup);
    expect(outcome).toMatchObject({ code: 'token_refused', states: ['closed'], state: 'closed' });
    expect([401, 403]).toContain(outcome.status);
    expect(pageErrors).toEqual([]);
  });
});

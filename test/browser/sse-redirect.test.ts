/**
 * Why browsers must open the SSE stream at its own URL (the stack output `SseUrl`) and not through
 * the HTTP API's `GET /api/events` redirect.
 *
 * Deployed, three origins meet: the frontend's (`corsOrigins`, e.g. https://chat.example.com), the
 * HTTP API's and the Function URL's. The redirect is a 307 from the HTTP API to the Function URL.
 * When a request is redirected from an origin other than its own to yet another origin, its origin
 * becomes tainted and the browser sends `Origin: null` (Fetch standard, HTTP-redirect fetch and
 * "serialize a request origin": https://fetch.spec.whatwg.org/#concept-request-tainted-origin).
 * The Function URL allows the listed origins only, so the stream comes back without
 * `Access-Control-Allow-Origin` and EventSource fails for good. Opened at the SSE URL, the same
 * page gets its events. The local runtime applies the deployed CORS rules to both endpoints; here
 * the frontend is a static page on its own port, listed in `corsOrigins` as it would be deployed.
 * (A page served by the HTTP API's own origin is not affected: the first hop is same-origin, so
 * nothing is tainted; deployed frontends are not served from there.)
 *
 * Non-browser clients (curl -L, Node's fetch, the eventsource package in Node) send no Origin and
 * are not subject to CORS: for them the redirect works, and the last test shows it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource as NodeEventSource } from 'eventsource';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSE_PATH } from '../../lambdas/shared/routes.js';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { type LaunchedContext, launchContext } from './chromium.js';

const ROOM = 'redirect';

let frontend: Server | undefined;
let frontendOrigin = '';
let runtime: Runtime | undefined;
let browser: LaunchedContext | undefined;
let token = '';

beforeAll(async () => {
  browser = await launchContext();
  // The frontend: an empty page on an origin of its own.
  frontend = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>frontend</title>');
  });
  await new Promise<void>((resolve) => frontend!.listen(0, '127.0.0.1', resolve));
  frontendOrigin = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
  runtime = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true, corsOrigins: [frontendOrigin] });
  const res = await fetch(`${runtime.httpUrl}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: 'erin', roles: ['admin'] }),
  });
  token = ((await res.json()) as { token: string }).token;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  if (frontend) {
    frontend.closeAllConnections();
    await new Promise((resolve) => frontend!.close(resolve));
  }
});

/** Publishes an event to every SSE client; returns its id. */
async function publish(rt: Runtime, version: number): Promise<string> {
  const res = await fetch(`${rt.httpUrl}/api/events/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ event_type: 'deploy.finished', data: { version } }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { event: { id: string } }).event.id;
}

interface Outcome {
  outcome: 'open' | 'error';
  readyState: number;
}

type WireEntry =
  | { request: string; origin: string | undefined }
  | { response: number; allowOrigin: string | undefined };

/**
 * What went over the wire from now on, requests and responses in order, read from the DevTools
 * protocol (Playwright's request objects leave some headers out of a request that follows a
 * redirect, Origin among them, and give no response for a request CORS blocked). Requests to
 * other hosts than `hosts` (the page's own) are left out.
 */
async function recordWire(page: Page, hosts: string[]): Promise<{ entries(count: number): Promise<WireEntry[]> }> {
  const log: WireEntry[] = [];
  let changed = () => {};
  const lower = (headers: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const ours = new Set<string>();
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Network.requestWillBeSentExtraInfo', ({ requestId, headers }) => {
    const h = lower(headers);
    if (!hosts.includes(h.host ?? '')) return;
    ours.add(requestId);
    log.push({ request: h.host!, origin: h.origin });
    changed();
  });
  cdp.on('Network.responseReceivedExtraInfo', ({ requestId, statusCode, headers }) => {
    if (!ours.has(requestId)) return;
    log.push({ response: statusCode, allowOrigin: lower(headers)['access-control-allow-origin'] });
    changed();
  });
  await cdp.send('Network.enable');
  /** The log once it has `count` entries (DevTools events and the page's own run independently). */
  const entries = async (count: number) => {
    while (log.length < count) await new Promise<void>((resolve) => (changed = resolve));
    return log;
  };
  return { entries };
}

/** In the page: opens an EventSource on `url`, resolves on its first `open` or `error`. */
function openEventSource(page: Page, url: string): Promise<Outcome> {
  return page.evaluate(
    (src) =>
      new Promise<Outcome>((resolve) => {
        const es = new EventSource(src);
        (window as unknown as { es: EventSource }).es = es;
        es.onopen = () => resolve({ outcome: 'open', readyState: es.readyState });
        es.onerror = () => resolve({ outcome: 'error', readyState: es.readyState });
      }),
    url,
  );
}

type Received = { id: string; data: unknown };

/**
 * In the page: starts listening for the next `deploy.finished` event of the page's EventSource;
 * resolves once the listener is in place, with a function that waits for the event.
 */
async function listenForEvent(page: Page): Promise<() => Promise<Received>> {
  await page.evaluate(() => {
    const w = window as unknown as { es: EventSource; next: Promise<Received> };
    w.next = new Promise((resolve) => {
      w.es.addEventListener('deploy.finished', (e) => resolve({ id: e.lastEventId, data: JSON.parse(e.data) }), { once: true });
    });
  });
  return () => page.evaluate(() => (window as unknown as { next: Promise<Received> }).next);
}

describe('SSE from a page on the frontend origin, in headless Chromium', () => {
  it('through the GET /api/events redirect: the browser sends Origin: null to the Function URL and CORS fails', async () => {
    const rt = runtime!;
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${frontendOrigin}/`);
      const redirectUrl = `${rt.httpUrl}${SSE_PATH}?room=${ROOM}&token=${token}`;
      const apiHost = new URL(rt.httpUrl).host;
      const sseHost = new URL(rt.sseStreamUrl).host;
      const wire = await recordWire(page, [apiHost, sseHost]);
      const corsError = page.waitForEvent('console', { predicate: (msg) => msg.type() === 'error' && /CORS policy/.test(msg.text()) });
      corsError.catch(() => undefined); // awaited below; a failure before that must not go unhandled

      const result = await openEventSource(page, redirectUrl);

      expect(await wire.entries(4)).toEqual([
        // The HTTP API gets the page's origin, allows it, and redirects ...
        { request: apiHost, origin: frontendOrigin },
        { response: 307, allowOrigin: frontendOrigin },
        // ... and the request that follows the redirect carries the tainted origin. The stream
        // answers, but with no CORS header for `null`, which is not an allowed origin.
        { request: sseHost, origin: 'null' },
        { response: 200, allowOrigin: undefined },
      ]);
      // So the browser withholds the stream and EventSource gives up for good (CLOSED, no
      // reconnect), as it does against the deployed Function URL.
      expect(result).toEqual({ outcome: 'error', readyState: 2 });
      expect((await corsError).text()).toContain("No 'Access-Control-Allow-Origin' header");
    } finally {
      await page.close();
    }
  });

  it('at the SSE URL itself: the page origin is allowed, the stream opens and events arrive', async () => {
    const rt = runtime!;
    const page = await browser!.context.newPage();
    try {
      await page.goto(`${frontendOrigin}/`);
      const sseHost = new URL(rt.sseStreamUrl).host;
      const wire = await recordWire(page, [sseHost]);
      const result = await openEventSource(page, `${rt.sseStreamUrl}?room=${ROOM}&token=${token}`);
      expect(result).toEqual({ outcome: 'open', readyState: 1 });
      expect(await wire.entries(2)).toEqual([
        { request: sseHost, origin: frontendOrigin },
        { response: 200, allowOrigin: frontendOrigin },
      ]);

      const received = await listenForEvent(page);
      const id = await publish(rt, 7);
      await expect(received()).resolves.toEqual({ id, data: expect.objectContaining({ id, data: { version: 7 } }) });
    } finally {
      await page.evaluate(() => (window as unknown as { es?: EventSource }).es?.close()).catch(() => undefined);
      await page.close();
    }
  });

  it('a non-browser client follows the redirect and streams (no Origin, no CORS)', async () => {
    const rt = runtime!;
    const es = new NodeEventSource(`${rt.httpUrl}${SSE_PATH}?room=${ROOM}&token=${token}`);
    try {
      await new Promise<void>((resolve, reject) => {
        es.onopen = () => resolve();
        es.onerror = (e) => reject(new Error(`EventSource failed: ${e.message ?? e.code}`));
      });
      const received = new Promise<string>((resolve) => {
        es.addEventListener('deploy.finished', (e) => resolve(e.lastEventId), { once: true });
      });
      const id = await publish(rt, 8);
      await expect(received).resolves.toBe(id);
    } finally {
      es.close();
    }
  });
});

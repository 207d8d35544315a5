/**
 * The streaming Function URL emulator and the `awslambda` shim on their own, with stub streaming
 * handlers: real incremental delivery, metadata from HttpResponseStream.from, client disconnects
 * NOT reaching the handler (as on Lambda), errors and the function timeout.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { FUNCTION_URL_CORS } from '../../local/cors.js';
import { type FunctionUrl, startFunctionUrl } from '../../local/function-url.js';
import { silentLogger } from '../../local/log.js';
import { awslambdaShim } from '../../local/streaming-shim.js';
import { deferred } from '../support/deferred.js';

let fnUrl: FunctionUrl | undefined;

afterEach(async () => {
  await fnUrl?.stop();
  fnUrl = undefined;
});

async function start(handler: (event: APIGatewayProxyEventV2, stream: Writable) => unknown, timeoutMs?: number) {
  fnUrl = await startFunctionUrl({
    host: '127.0.0.1',
    port: 0,
    handler: awslambdaShim.streamifyResponse(handler),
    cors: { allowOrigins: ['http://app.example'], ...FUNCTION_URL_CORS },
    logger: silentLogger,
    timeoutMs,
  });
  return fnUrl;
}


describe('streaming Function URL', () => {
  it('streams each write as it happens, with the status and headers given to HttpResponseStream.from', async () => {
    const firstRead = deferred();
    const handlerClosed = deferred();
    let event: APIGatewayProxyEventV2 | undefined;
    const { url } = await start(async (ev, stream) => {
      event = ev;
      const out = awslambdaShim.HttpResponseStream.from(stream, { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-test': 'yes' } });
      out.write('first;');
      // The second chunk is only written after the client has read the first one.
      await firstRead.promise;
      out.end('second');
      out.on('close', () => handlerClosed.resolve());
    });
    const res = await fetch(`${url}/some/path?x=1&x=2`, { headers: { origin: 'http://app.example', cookie: 'a=1; b=2' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-test')).toBe('yes');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('first;');
    firstRead.resolve();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += decoder.decode(value);
    }
    expect(rest).toBe('second');
    await handlerClosed.promise;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/some/path',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      cookies: ['a=1', 'b=2'],
      requestContext: { stage: '$default', http: { method: 'GET', path: '/some/path', sourceIp: '127.0.0.1' } },
      isBase64Encoded: false,
    });
    expect(event?.headers.origin).toBe('http://app.example');
  });

  it('does not tell the handler when the client goes away: the invocation runs on, its writes swallowed', async () => {
    const release = deferred();
    const finished = deferred<{ signals: string[]; writeError: Error | null | undefined }>();
    const { url, activeStreams, events } = await start(async (_ev, stream) => {
      const out = awslambdaShim.HttpResponseStream.from(stream, { statusCode: 200, headers: { 'content-type': 'text/event-stream' } });
      const signals: string[] = [];
      for (const name of ['close', 'error', 'finish']) out.on(name, () => signals.push(name));
      out.write(': hello\n\n');
      await release.promise;
      const writeError = await new Promise<Error | null | undefined>((resolve) => out.write('data: after\n\n', resolve));
      finished.resolve({ signals: [...signals], writeError });
      out.end();
    });
    const gone = new Promise<void>((resolve) => events.once('client-gone', () => resolve()));
    const controller = new AbortController();
    const res = await fetch(url, { signal: controller.signal });
    await res.body!.getReader().read();
    controller.abort();
    await gone;
    // The client left; the invocation has not.
    expect(activeStreams()).toBe(1);
    const ended = new Promise<void>((resolve) => events.once('invocation-end', () => resolve()));
    release.resolve();
    const { signals, writeError } = await finished.promise;
    expect(signals).toEqual([]);
    expect(writeError ?? null).toBeNull();
    await ended;
    expect(activeStreams()).toBe(0);
  });

  it('defaults to 200 application/octet-stream without HttpResponseStream.from', async () => {
    const { url } = await start(async (_ev, stream) => {
      stream.end('raw');
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(await res.text()).toBe('raw');
  });

  it('answers 502 when the handler fails before streaming', async () => {
    const { url } = await start(async () => {
      throw new Error('boom');
    });
    const res = await fetch(url);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ Message: 'Internal Server Error' });
  });

  it('ends the response at the function timeout', async () => {
    const { url } = await start(async (_ev, stream) => {
      const out = awslambdaShim.HttpResponseStream.from(stream, { statusCode: 200, headers: { 'content-type': 'text/plain' } });
      out.write('started');
      await new Promise<void>((resolve) => out.on('close', () => resolve()));
    }, 300);
    const res = await fetch(url);
    expect(await res.text()).toBe('started');
  });
});

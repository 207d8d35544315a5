/**
 * Sends the service turns down for a while (rate limit) are retried after the wait it asks for;
 * sends it refuses for good reject with the service's code and do not block the queue; a
 * connection that stops answering is noticed by its keep-alive and replaced.
 */
import '../support/quiet.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatClientError, type ChatMessage } from '../../client/src/index.js';
import type { Runtime } from '../../local/runtime.js';
import { Log, closeClients, interceptedSocket, recordedClient, startAuthRuntime, uniqueRoom } from './helpers.js';

let rt: Runtime;

beforeAll(async () => {
  // Three messages per connection every 2 s.
  rt = await startAuthRuntime({ context: { rateWindowSeconds: 2, ratePerConnection: 3, ratePerUser: 100_000 } });
});

afterEach(() => closeClients());

afterAll(async () => {
  await rt?.stop();
});

describe('ChatClient retries', () => {
  it('waits out rate_limited replies and sends on: every message stored once, in order', async () => {
    const room = uniqueRoom('rate');
    const limited = new Log<unknown>();
    const writer = recordedClient(rt, {
      room,
      getToken: () => rt.issueToken!('writer'),
      WebSocket: interceptedSocket((frame) => {
        if (frame.event === 'error') limited.push(frame.data);
        return true;
      }),
    });
    const texts = Array.from({ length: 7 }, (_, i) => `r${i}`);
    const sent = await Promise.all(texts.map((t) => writer.client.send(t)));
    expect(sent.map((m) => m.content)).toEqual(texts);
    expect(limited.items.length).toBeGreaterThan(0);
    expect(limited.items[0]).toMatchObject({ code: 'rate_limited', details: { retry_after_seconds: expect.any(Number) } });
    const res = await fetch(`${rt.httpUrl}/api/messages?room=${room}`, { headers: { authorization: `Bearer ${rt.issueToken!('writer')}` } });
    const stored = ((await res.json()) as { messages: ChatMessage[] }).messages;
    expect(stored.map((m) => m.id)).toEqual(sent.map((m) => m.id));
  });

  it('rejects a send the service refuses with its code, and the sends queued behind it still go', async () => {
    const room = uniqueRoom('refuse');
    const writer = recordedClient(rt, { room, getToken: () => rt.issueToken!('writer') });
    const first = writer.client.send('fine');
    const bad = writer.client.send({ type: 'image', content: 'bm90IGFuIGltYWdl', format: 'png' });
    const last = writer.client.send('also fine');
    await expect(bad).rejects.toBeInstanceOf(ChatClientError);
    await expect(bad).rejects.toMatchObject({ code: 'format_mismatch' });
    expect([(await first).content, (await last).content]).toEqual(['fine', 'also fine']);
    expect(writer.client.pending).toBe(0);
  });

  it('replaces a connection that stops answering: the keep-alive ping gets no pong within replyTimeoutMs', async () => {
    const room = uniqueRoom('silent');
    let silent = true;
    const client = recordedClient(rt, {
      room,
      getToken: () => rt.issueToken!('pinger'),
      keepAliveMs: 100,
      replyTimeoutMs: 300,
      // The first connection goes silent: its pongs never arrive.
      WebSocket: interceptedSocket((frame) => !(silent && frame.event === 'pong')),
    });
    await client.opened();
    await client.states.until((s) => s.includes('reconnecting'), 'the silent connection to be dropped');
    silent = false;
    await client.opened(2);
    const message = await client.client.send('on the new connection');
    expect(message.content).toBe('on the new connection');
    expect(client.errors.items).toEqual([]);
  });
});

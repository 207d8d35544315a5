/**
 * Retries are stored once: a send whose reply is lost is sent again with the same `client_id`, and
 * the service answers the retry with the original message (same id) instead of storing a second
 * one. Over the WebSocket API (the reply frame lost and the connection cut) and over
 * `POST /api/message` (the response lost after the service handled the request).
 */
import '../support/quiet.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../client/src/index.js';
import type { Runtime } from '../../local/runtime.js';
import { closeClients, interceptedSocket, recordedClient, startAuthRuntime, uniqueRoom } from './helpers.js';

let rt: Runtime;

beforeAll(async () => {
  rt = await startAuthRuntime();
});

afterEach(() => closeClients());

afterAll(async () => {
  await rt?.stop();
});

/** A WebSocket that loses the first `message_received` reply and then drops the connection. */
function lossyReplies(lost: ChatMessage[]) {
  return interceptedSocket((frame, socket) => {
    if (frame.event !== 'message_received' || lost.length > 0) return true;
    lost.push((frame.data as { message: ChatMessage }).message);
    socket.close(4001, 'reply lost');
    return false;
  });
}

async function roomHistory(room: string, token: string): Promise<ChatMessage[]> {
  const res = await fetch(`${rt.httpUrl}/api/messages?room=${room}&limit=100`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: ChatMessage[] }).messages;
}

describe('retried sends', () => {
  it('over the WebSocket API: the reply is lost, the send is retried after the reconnect, the message is stored and delivered once', async () => {
    const room = uniqueRoom('once-ws');
    const lost: ChatMessage[] = [];
    const writer = recordedClient(rt, { room, getToken: () => rt.issueToken!('writer'), WebSocket: lossyReplies(lost) });
    const reader = recordedClient(rt, { room, getToken: () => rt.issueToken!('reader') });
    await Promise.all([writer.opened(), reader.opened()]);

    const message = await writer.client.send('exactly once');
    expect(lost).toHaveLength(1);
    expect(writer.states.items).toContain('reconnecting');
    // The retry was answered with the message stored by the first attempt.
    expect(message.id).toBe(lost[0]!.id);
    const follow = await writer.client.send('next');

    const stored = await roomHistory(room, rt.issueToken!('reader'));
    expect(stored.map((m) => m.content)).toEqual(['exactly once', 'next']);
    await reader.messages.until((m) => m.some((x) => x.id === follow.id), 'the next message');
    expect(reader.ids()).toEqual([message.id, follow.id]);
    expect(writer.ids()).toEqual([message.id, follow.id]);
  });

  it('over POST /api/message: the response is lost, the retry with the same client_id gets the original message', async () => {
    const room = uniqueRoom('once-rest');
    const bodies: string[] = [];
    let responsesLost = 0;
    const losingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST') {
        bodies.push(String(init.body));
        if (responsesLost++ === 0) throw new TypeError('fetch failed: connection reset');
      }
      return res;
    };
    const client = recordedClient(rt, { room, getToken: () => rt.issueToken!('poster'), fetch: losingFetch });
    const message = await client.client.post('posted once');
    expect(bodies).toHaveLength(2);
    expect(JSON.parse(bodies[0]!).client_id).toBe(JSON.parse(bodies[1]!).client_id);
    const stored = await roomHistory(room, rt.issueToken!('poster'));
    expect(stored.map((m) => [m.id, m.content])).toEqual([[message.id, 'posted once']]);
  });

  it('the same client_id from another sender is another message', async () => {
    const room = uniqueRoom('once-senders');
    const clientId = crypto.randomUUID();
    const post = (sub: string) =>
      fetch(`${rt.httpUrl}/api/message`, {
        method: 'POST',
        headers: { authorization: `Bearer ${rt.issueToken!(sub)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'text', content: 'same id', room, client_id: clientId }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as { message: ChatMessage } }));
    const [a1, a2, b] = [await post('ana'), await post('ana'), await post('ben')];
    expect([a1.status, a2.status, b.status]).toEqual([201, 201, 201]);
    expect(a2.body.message.id).toBe(a1.body.message.id);
    expect(b.body.message.id).not.toBe(a1.body.message.id);
    expect((await roomHistory(room, rt.issueToken!('ana'))).map((m) => m.sender)).toEqual(['ana', 'ben']);
  });
});

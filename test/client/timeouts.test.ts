/**
 * API Gateway's connection timeouts, shortened in the local runtime (idle 1.5 s, maximum 4 s for
 * 10 min and 2 h): the client's keep-alive holds a connection past the idle timeout, and the idle
 * close and the maximum-duration close are followed by a reconnect and a resume that lose nothing,
 * even when messages are sent while the client is away.
 */
import '../support/quiet.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../client/src/index.js';
import type { Runtime } from '../../local/runtime.js';
import { Log, closeClients, recordedClient, startAuthRuntime, uniqueRoom } from './helpers.js';

const IDLE_MS = 1_500;
const MAX_MS = 4_000;
let rt: Runtime;

beforeAll(async () => {
  rt = await startAuthRuntime({ idleTimeoutMs: IDLE_MS, maxConnectionMs: MAX_MS });
  // These tests are about timeouts of 1.5 and 4 s, not cold starts: a first connect and send start
  // every function's sandboxes (two at once, as the tests use them), so no test waits on one.
  const warm = [0, 1].map((i) => recordedClient(rt, { room: uniqueRoom('warm'), getToken: () => rt.issueToken!(`warm${i}`) }));
  await Promise.all(warm.map((w) => w.opened()));
  await Promise.all(warm.map((w) => w.client.send('warm')));
  closeClients();
}, 120_000);

afterEach(() => closeClients());

afterAll(async () => {
  await rt?.stop();
});

/**
 * A token source whose second call (the first reconnect) waits until `release()`: the test decides
 * how long the client stays away, instead of guessing a sleep.
 */
function heldReconnect(sub: string) {
  const calls = new Log<number>();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const getToken = async () => {
    calls.push(calls.items.length + 1);
    if (calls.items.length === 2) await gate;
    return rt.issueToken!(sub);
  };
  return { getToken, release, reconnecting: () => calls.until((c) => c.length >= 2, 'the reconnect to ask for a token') };
}

async function sendAll(send: (text: string) => Promise<ChatMessage>, texts: string[]): Promise<string[]> {
  return (await Promise.all(texts.map((t) => send(t)))).map((m) => m.id);
}

describe('ChatClient and API Gateway timeouts', () => {
  it('survives the idle close: reconnects, resumes, and gets what was sent while it was away, once and in order', async () => {
    const room = uniqueRoom('idle');
    const held = heldReconnect('reader');
    // No keep-alive inside the idle timeout: the service closes it.
    const reader = recordedClient(rt, { room, getToken: held.getToken, keepAliveMs: 60_000 });
    const writer = recordedClient(rt, { room, getToken: () => rt.issueToken!('writer') });
    await Promise.all([reader.opened(), writer.opened()]);
    const openedAt = Date.now();
    const before = await sendAll((t) => writer.client.send(t), ['b1', 'b2']);
    // The first messages arrive live or, if the idle close came first, with the resume: either way
    // once and in order (asserted below).
    await held.reconnecting();
    const closedAfter = Date.now() - openedAt;
    expect(closedAfter).toBeLessThan(MAX_MS);
    const away = await sendAll((t) => writer.client.send(t), ['a1', 'a2', 'a3']);
    held.release();
    await reader.opened(2);
    const after = await sendAll((t) => writer.client.send(t), ['c1']);
    const all = [...before, ...away, ...after];
    await reader.messages.until((m) => m.length >= all.length, 'every message');
    expect(reader.ids()).toEqual(all);
    expect(reader.resumes.items.length).toBe(1);
    expect(reader.errors.items).toEqual([]);
  });

  it('keeps a connection open past the idle timeout with pings, and survives the maximum-duration close without loss', async () => {
    const room = uniqueRoom('max');
    const held = heldReconnect('reader');
    const reader = recordedClient(rt, { room, getToken: held.getToken, keepAliveMs: IDLE_MS / 3 });
    await reader.opened();
    const openedAt = Date.now();
    const writer = recordedClient(rt, { room, getToken: () => rt.issueToken!('writer') });
    await writer.opened();
    const before = await sendAll((t) => writer.client.send(t), ['b1']);

    await held.reconnecting();
    // Closed at the maximum duration, long after the idle timeout (the pings counted as traffic).
    expect(Date.now() - openedAt).toBeGreaterThan(IDLE_MS * 2);
    expect(reader.connections.items).toHaveLength(1);
    const away = await sendAll((t) => writer.client.send(t), ['a1', 'a2']);
    held.release();
    await reader.opened(2);
    const after = await sendAll((t) => writer.client.send(t), ['c1']);
    const all = [...before, ...away, ...after];
    await reader.messages.until((m) => m.length >= all.length, 'every message');
    expect(reader.ids()).toEqual(all);
    expect(reader.errors.items).toEqual([]);
  });

  it('switches to a new connection before the maximum duration while messages flow: no reconnecting state, nothing lost or doubled', async () => {
    const room = uniqueRoom('rotate');
    const reader = recordedClient(rt, {
      room,
      getToken: () => rt.issueToken!('reader'),
      keepAliveMs: IDLE_MS / 3,
      maxConnectionMs: MAX_MS,
      rotateBeforeMs: 1_500,
    });
    const writer = recordedClient(rt, { room, getToken: () => rt.issueToken!('writer') });
    await Promise.all([reader.opened(), writer.opened()]);
    const sent: string[] = [];
    let atSwitch: number | undefined;
    // Keep messages flowing until a few have arrived on the second connection.
    while (atSwitch === undefined || sent.length < atSwitch + 5) {
      sent.push((await writer.client.send(`m${sent.length}`)).id);
      await reader.messages.until((m) => m.length >= sent.length, `message ${sent.length}`);
      if (atSwitch === undefined && reader.connections.items.length >= 2) atSwitch = sent.length;
    }
    expect(reader.ids()).toEqual(sent);
    expect(reader.states.items).toEqual(['open']);
    expect(reader.resumes.items.length).toBe(1);
    expect(reader.errors.items).toEqual([]);
  });
});

/**
 * The client package's presence and typing: `presence()`, `typing()`, the `presence` and `typing`
 * events (against the local runtime), and the sender's throttle and the receiver's lapse (units,
 * fake timers).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PresenceChange, TypingEvent } from '../../client/src/index.js';
import { TypingSender, TypingTracker } from '../../client/src/presence.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import type { Runtime } from '../../local/runtime.js';
import { closeClients, Log, recordedClient, startAuthRuntime, uniqueRoom } from '../client/helpers.js';

describe('client: presence and typing against the local runtime', () => {
  let rt: Runtime;

  beforeAll(async () => {
    rt = await startAuthRuntime({ context: { presenceGraceSeconds: 1 } });
  }, 120_000);
  afterEach(() => closeClients());
  afterAll(async () => {
    await rt?.stop();
  });

  it('reports presence changes, lists members, and relays typing within the limit', async () => {
    const room = uniqueRoom('client-presence');
    const bob = recordedClient(rt, { room, getToken: () => rt.issueToken!('bob') });
    const changes = new Log<PresenceChange>();
    const typing = new Log<TypingEvent>();
    bob.client.on('presence', (p) => changes.push(p));
    bob.client.on('typing', (t) => typing.push(t));
    await bob.opened();

    const alice = recordedClient(rt, { room, getToken: () => rt.issueToken!('alice') });
    await alice.opened();
    await changes.until((c) => c.some((p) => p.user === 'alice' && p.state === 'online'), 'alice online');
    expect((await bob.client.presence()).map((m) => [m.user, m.connections])).toEqual([
      ['alice', 1],
      ['bob', 1],
    ]);

    alice.client.typing('start');
    alice.client.typing('start'); // within the interval: dropped, the first has not lapsed
    const startedAt = Date.now();
    alice.client.typing('stop'); // waits for the interval, then goes out
    await typing.until((t) => t.some((e) => e.state === 'stop'), 'alice stopped typing');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(LIMITS.typingIntervalMs - 100);
    expect(typing.items.map((e) => [e.user, e.state])).toEqual([
      ['alice', 'start'],
      ['alice', 'stop'],
    ]);
    expect(bob.client.typingUsers()).toEqual([]);
    expect(alice.errors.items).toEqual([]);

    alice.client.close();
    await changes.until((c) => c.some((p) => p.user === 'alice' && p.state === 'offline'), 'alice offline', 20_000);
  }, 60_000);
});

describe('client: typing units', () => {
  afterEach(() => vi.useRealTimers());

  it('a start lapses after expires_in_ms; a stop or a message from the user ends it sooner', () => {
    vi.useFakeTimers();
    const events: TypingEvent[] = [];
    const tracker = new TypingTracker((e) => events.push(e));
    tracker.receive({ room: 'r', user: 'alice', state: 'start', expires_in_ms: 6000 });
    tracker.receive({ room: 'r', user: 'bob', state: 'start', expires_in_ms: 6000 });
    expect(tracker.typing('r')).toEqual(['alice', 'bob']);
    vi.advanceTimersByTime(3000);
    tracker.receive({ room: 'r', user: 'alice', state: 'start', expires_in_ms: 6000 }); // renewed
    vi.advanceTimersByTime(3001);
    expect(events.at(-1)).toEqual({ room: 'r', user: 'bob', state: 'stop', lapsed: true });
    expect(tracker.typing('r')).toEqual(['alice']);
    tracker.messageFrom('r', 'alice');
    expect(events.at(-1)).toEqual({ room: 'r', user: 'alice', state: 'stop' });
    expect(tracker.typing('r')).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(events.filter((e) => e.state === 'stop')).toHaveLength(2);
    tracker.dispose();
  });

  it('sends at most one state per interval: repeats dropped, a stop deferred, a stop with no start never sent', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const sender = new TypingSender(
      (s) => {
        sent.push(s);
        return true;
      },
      2000,
      () => Date.now(),
    );
    sender.typing('stop');
    expect(sent).toEqual([]);
    sender.typing('start');
    sender.typing('start');
    sender.typing('stop');
    expect(sent).toEqual(['start']);
    vi.advanceTimersByTime(1999);
    expect(sent).toEqual(['start']);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(['start', 'stop']);
    sender.typing('start'); // right after the stop: deferred
    vi.advanceTimersByTime(2000);
    expect(sent).toEqual(['start', 'stop', 'start']);
    sender.dispose();
  });
});

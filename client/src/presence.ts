/**
 * Presence and typing on the client side: the wire shapes, a sender that keeps `typing` within the
 * service's limit (one per user and room every LIMITS.typingIntervalMs), and a tracker that lapses
 * a `start` after its `expires_in_ms` (the service never sends a `stop` for a user who just left).
 */
import { LIMITS } from './generated.js';

export interface PresenceMember {
  user: string;
  /** Live connections of the user in the room (tabs, devices). */
  connections: number;
  since: string;
}

export interface PresenceList {
  room: string;
  members: PresenceMember[];
  next_cursor: string | null;
}

export interface PresenceChange {
  room: string;
  user: string;
  state: 'online' | 'offline';
}

export type TypingState = 'start' | 'stop';

export interface TypingEvent {
  room: string;
  user: string;
  state: TypingState;
  /** With `start`: the indicator lapses this long after it arrived unless another `start` comes. */
  expires_in_ms?: number;
  /** Set on the `stop` the client makes up when a `start` lapsed. */
  lapsed?: boolean;
}

/**
 * Sends typing states at most once per interval: a `start` within the interval of the last sent
 * one is dropped (the receivers' indicator is still on), a `stop` waits until the interval is over
 * and is then sent unless a newer `start` replaced it.
 */
export class TypingSender {
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private lastSent: TypingState | undefined;
  private pending: { state: TypingState; timer: ReturnType<typeof setTimeout> } | undefined;

  constructor(
    private readonly send: (state: TypingState) => boolean,
    private readonly intervalMs: number = LIMITS.typingIntervalMs,
    private readonly now: () => number = Date.now,
  ) {}

  typing(state: TypingState): void {
    const wait = this.lastSentAt + this.intervalMs - this.now();
    if (this.pending) {
      clearTimeout(this.pending.timer);
      this.pending = undefined;
    }
    if (wait <= 0) {
      this.fire(state);
      return;
    }
    // Within the interval: a repeated start is not needed (it has not lapsed yet); a stop, or a
    // start after a stop, goes out when the interval is over.
    if (state === 'start' && this.lastSent === 'start') return;
    this.pending = { state, timer: setTimeout(() => this.flush(), wait) };
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.fire(pending.state);
  }

  private fire(state: TypingState): void {
    if (state === 'stop' && this.lastSent !== 'start') return;
    if (this.send(state)) {
      this.lastSentAt = this.now();
      this.lastSent = state;
    }
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}

/** Who is typing in a room: a `start` holds until `stop`, a message from that user, or its lapse. */
export class TypingTracker {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly emit: (event: TypingEvent) => void) {}

  private key = (room: string, user: string) => `${room}\n${user}`;

  receive(event: TypingEvent): void {
    const key = this.key(event.room, event.user);
    const running = this.timers.get(key);
    if (running) clearTimeout(running);
    this.timers.delete(key);
    if (event.state === 'start') {
      const lapseMs = event.expires_in_ms ?? LIMITS.typingLapseMs;
      this.timers.set(
        key,
        setTimeout(() => {
          this.timers.delete(key);
          this.emit({ room: event.room, user: event.user, state: 'stop', lapsed: true });
        }, lapseMs),
      );
    } else if (!running) {
      return;
    }
    this.emit(event);
  }

  /** A message from `user` ends their typing. */
  messageFrom(room: string, user: string): void {
    if (this.timers.has(this.key(room, user))) this.receive({ room, user, state: 'stop' });
  }

  /** Users typing now, per room. */
  typing(room: string): string[] {
    return [...this.timers.keys()].filter((k) => k.startsWith(`${room}\n`)).map((k) => k.slice(room.length + 1));
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * ChatClient: one room over the WebSocket API, and the REST and SSE endpoints beside it.
 *
 * - States `connecting` → `open` ⇄ `reconnecting` → `closed`, reported by the `state` event. `open`
 *   means connected and caught up (resumed).
 * - Reconnects with exponential backoff and full jitter; a close before the handshake completes is
 *   checked against the REST API with the same token, and a refused token stops the client with a
 *   `token_refused` error (browsers do not show the upgrade's 401/403).
 * - Keep-alive: a `ping` when nothing was sent for `keepAliveMs`, inside API Gateway's 10-minute
 *   idle timeout; the 2-hour close (and any other) is followed by a reconnect and a resume.
 * - Resume: after every reconnect, `resume` from a little before the last id seen; items are
 *   buffered until `resumed`, sorted by id and handed over once (de-duplicated by id).
 * - Sends: queued while offline, sent one at a time (the service's replies carry no request id, so
 *   one in flight is what ties a reply to its send), each with a `client_id`, retried until
 *   acknowledged; a reply that does not come in `replyTimeoutMs` means a dead connection.
 */
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { ChatClientError, isRetryable, retryAfterMs } from './errors.js';
import { type ChatMessage, LIMITS, type PublishedEvent, type RoomInfo, type WsAction, WS_EVENTS } from './generated.js';
import { SeenIds, newClientId, ulidFloor, ulidTime } from './ids.js';
import { type ConnectedData, type ErrorData, type ResumedData, type ServerFrame, parseServerFrame } from './protocol.js';
import { type FetchLike, type HistoryOptions, type MessageDraft, RestApi, type TokenSource } from './rest.js';
import { type AttachmentSpec, uploadAttachment } from './uploads.js';
import { type EventStreamOptions, type StreamEvent, eventStream, sseUrlOf } from './sse.js';
import { type CreateRoomInput, type ListRoomsOptions, type RoomPage, RoomsApi } from './rooms.js';
import { type PresenceChange, type PresenceMember, TypingSender, type TypingEvent, type TypingState, TypingTracker } from './presence.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The part of the WebSocket API the client uses (browsers' and Node's global WebSocket, `ws`). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type SocketConstructor = new (url: string) => SocketLike;

export interface ChatClientOptions {
  /** The WebSocket API URL (`wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}`). */
  wsUrl: string;
  /** The HTTP API URL (REST, history, token probe). */
  httpUrl: string;
  /**
   * The SSE Function URL (stack output SseUrl). Default: the HTTP API, which redirects to it; set it
   * in browsers, which send `Origin: null` after a cross-origin redirect.
   */
  sseUrl?: string;
  /** The room to listen and send to (default `general`). */
  room?: string;
  /** Called before every connection and request; return a fresh token when the last one expires. */
  getToken?: TokenSource;
  /** Resume from this id on the first connection (e.g. `client.lastId` stored by an earlier session). */
  after?: string;
  reconnect?: Partial<BackoffOptions>;
  /** A `ping` after this long without a sent frame (default: half the 10-minute idle timeout). */
  keepAliveMs?: number;
  /** A reply (ack, pong, resumed) slower than this closes the connection and reconnects. */
  replyTimeoutMs?: number;
  /** API Gateway's maximum connection duration (2 h), and how long before it to switch connections. */
  maxConnectionMs?: number;
  rotateBeforeMs?: number;
  /** Resume this far before the last id seen, to catch items delivered out of id order. */
  resumeOverlapMs?: number;
  /** Send `client_id` with every message (default true). */
  clientIds?: boolean;
  /** Attempts of a send rejected with a retryable error (`rate_limited`, `internal_error`). */
  sendAttempts?: number;
  WebSocket?: SocketConstructor;
  fetch?: FetchLike;
}

export interface ClientEvents {
  state: { state: ConnectionState; previous: ConnectionState };
  /** Each connection's greeting. */
  connected: ConnectedData;
  /** Every message of the room once, in order, including the ones this client sent. */
  message: ChatMessage;
  broadcast: ChatMessage;
  notification: PublishedEvent;
  /** A resume finished: `count` items were missed while away. */
  resumed: ResumedData;
  /** `token_refused` stops the client; other errors are reported and the client goes on. */
  error: ChatClientError;
  /** The user was removed from a room; removed from the client's own room, the client stops (`forbidden`). */
  removed: { room: string };
  /** A user came online in the room, or went offline (after the service's grace period). */
  presence: PresenceChange;
  /** Someone else started or stopped typing; a `start` not renewed ends with a `stop` marked `lapsed`. */
  typing: TypingEvent;
}

interface PendingSend {
  draft: MessageDraft;
  clientId: string | undefined;
  attempts: number;
  resolve: (message: ChatMessage) => void;
  reject: (error: ChatClientError) => void;
}

type InFlight =
  | { kind: 'send'; send: PendingSend; timer: ReturnType<typeof setTimeout> }
  | { kind: 'ping' | 'resume'; timer: ReturnType<typeof setTimeout> };

type Item = { kind: 'message' | 'broadcast'; id: string; data: ChatMessage } | { kind: 'notification'; id: string; data: PublishedEvent };

const WS_OPEN = 1;

function frameBytes(frame: unknown): number {
  return new TextEncoder().encode(JSON.stringify(frame)).byteLength;
}

export class ChatClient extends Emitter<ClientEvents> {
  readonly room: string;
  private readonly options: Required<
    Pick<ChatClientOptions, 'keepAliveMs' | 'replyTimeoutMs' | 'resumeOverlapMs' | 'clientIds' | 'sendAttempts' | 'maxConnectionMs' | 'rotateBeforeMs'>
  >;
  private readonly backoff: BackoffOptions;
  private readonly rest: RestApi;
  private readonly getToken: TokenSource;
  private readonly Socket: SocketConstructor;
  private readonly fetchImpl: FetchLike;
  private readonly stopped = new AbortController();
  private readonly wsUrl: string;
  private readonly sseUrl: string;
  private readonly httpUrl: string;
  private roomsApi: RoomsApi | undefined;

  private currentState: ConnectionState = 'connecting';
  private socket: SocketLike | undefined;
  private failures = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set while waiting out a retryable refusal (`rate_limited`, `internal_error`). */
  private sendsPaused = false;
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;
  private rotateTimer: ReturnType<typeof setTimeout> | undefined;
  /** Replacing a connection near its maximum duration: waiting for the in-flight reply, then opening. */
  private rotation: 'waiting' | 'opening' | undefined;
  private standby: SocketLike | undefined;

  private readonly outbox: PendingSend[] = [];
  private inFlight: InFlight | undefined;
  private restBusy = false;
  /** True from open until the resume is over: items wait in `buffer` to be sorted. */
  private resuming = false;
  private buffer: Item[] = [];
  private readonly seen = new SeenIds();
  private last: string | undefined;
  /** `after` as the app gave it: the app has everything up to it, so older items are not handed over. */
  private readonly floor: string | undefined;
  private firstOpenAt: number | undefined;
  private readonly typingSender = new TypingSender((state) => this.sendFrame('typing', { room: this.room, state }));
  private readonly typingTracker = new TypingTracker((event) => this.emit('typing', event));

  constructor(options: ChatClientOptions) {
    super();
    this.room = options.room ?? 'general';
    this.options = {
      keepAliveMs: options.keepAliveMs ?? LIMITS.wsIdleTimeoutMs / 2,
      replyTimeoutMs: options.replyTimeoutMs ?? 15_000,
      resumeOverlapMs: options.resumeOverlapMs ?? 10_000,
      clientIds: options.clientIds ?? true,
      sendAttempts: options.sendAttempts ?? 10,
      maxConnectionMs: options.maxConnectionMs ?? LIMITS.wsMaxConnectionMs,
      rotateBeforeMs: options.rotateBeforeMs ?? 60_000,
    };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.getToken = options.getToken ?? (() => undefined);
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
    if (!Socket) throw new ChatClientError('protocol', 'No WebSocket implementation: pass options.WebSocket');
    this.Socket = Socket;
    this.last = options.after;
    this.floor = options.after;
    this.wsUrl = options.wsUrl;
    this.sseUrl = options.sseUrl ? sseUrlOf(options.sseUrl) : sseUrlOf(options.httpUrl);
    this.httpUrl = options.httpUrl;
    this.rest = new RestApi({
      httpUrl: options.httpUrl,
      getToken: this.getToken,
      fetch: this.fetchImpl,
      backoff: this.backoff,
      sendAttempts: this.options.sendAttempts,
      signal: this.stopped.signal,
    });
    queueMicrotask(() => void this.connect());
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The newest id handed to the app: store it and pass it as `after` to resume a later session. */
  get lastId(): string | undefined {
    return this.last;
  }

  /** Sends waiting for their acknowledgement. */
  get pending(): number {
    return this.outbox.length;
  }

  /**
   * Sends a message to the room. Resolves with the stored message once the service acknowledged
   * it, however many reconnects that takes. Messages whose frame would exceed API Gateway's 32 KB
   * frame limit go over REST, in the same order.
   */
  send(draft: MessageDraft | string): Promise<ChatMessage> {
    const message: MessageDraft = typeof draft === 'string' ? { type: 'text', content: draft } : draft;
    if (this.stopped.signal.aborted) return Promise.reject(new ChatClientError('closed', 'The client is closed'));
    return new Promise((resolve, reject) => {
      this.outbox.push({ draft: message, clientId: this.options.clientIds ? newClientId() : undefined, attempts: 0, resolve, reject });
      this.pump();
    });
  }

  /** `POST /api/message` directly, with a `client_id` and retries (not ordered with `send`). */
  post(draft: MessageDraft | string): Promise<ChatMessage> {
    const message: MessageDraft = typeof draft === 'string' ? { type: 'text', content: draft } : draft;
    return this.rest.postMessage(this.withClientId({ room: this.room, ...message }, this.options.clientIds ? newClientId() : undefined));
  }

  /**
   * Uploads a photo or voice note (`POST /api/uploads`, then the file to S3) and resolves with its
   * `attachment_id`: `send({ type: 'image', content: '', attachment_id })` sends it.
   */
  uploadAttachment(file: Blob, spec?: AttachmentSpec): Promise<string> {
    return uploadAttachment({ httpUrl: this.httpUrl, getToken: this.getToken, fetch: this.fetchImpl }, file, spec);
  }

  /** The room's history, page by page, newest page first (each page oldest first). */
  history(options: HistoryOptions = {}): AsyncGenerator<ChatMessage[], void, undefined> {
    return this.rest.history({ ...options, room: options.room ?? this.room });
  }

  /** The SSE stream of the room: messages, broadcasts and published events, resumed across reconnects. */
  events(options: EventStreamOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.stopped.signal]) : this.stopped.signal;
    return eventStream(
      { url: this.sseUrl, room: this.room, getToken: this.getToken, fetch: this.fetchImpl, backoff: this.backoff },
      { ...options, signal },
    );
  }

  /** Rooms: create, open a direct room, list, manage members (REST; see RoomsApi). */
  get rooms(): RoomsApi {
    this.roomsApi ??= new RoomsApi((method, path, body) => this.rest.request(method, path, body));
    return this.roomsApi;
  }

  createRoom(input: CreateRoomInput): Promise<RoomInfo> {
    return this.rooms.create(input);
  }

  openDirect(user: string): Promise<RoomInfo> {
    return this.rooms.openDirect(user);
  }

  listRooms(options: ListRoomsOptions = {}): Promise<RoomPage> {
    return this.rooms.list(options);
  }

  addMember(room: string, user: string): Promise<void> {
    return this.rooms.addMember(room, user);
  }

  removeMember(room: string, user: string): Promise<number> {
    return this.rooms.removeMember(room, user);
  }

  /**
   * Tells the room's other members that this user is typing (`start`, repeat while typing) or
   * stopped (`stop`). Kept within the service's limit of one per LIMITS.typingIntervalMs: repeats
   * are dropped and a `stop` waits for the interval. Not queued across reconnects.
   */
  typing(state: TypingState = 'start'): void {
    this.typingSender.typing(state);
  }

  /** Who is online in the room now (every page of `GET /api/rooms/{room}/presence`). */
  async presence(room: string = this.room): Promise<PresenceMember[]> {
    const members: PresenceMember[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.rest.presencePage(room, cursor);
      members.push(...page.members);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return members;
  }

  /** Users typing in the room now (their `start` arrived and has not stopped or lapsed). */
  typingUsers(room: string = this.room): string[] {
    return this.typingTracker.typing(room);
  }

  /** Closes the connection for good; sends still waiting are rejected with `closed`. */
  close(): void {
    this.typingSender.dispose();
    this.typingTracker.dispose();
    this.stop(new ChatClientError('closed', 'The client is closed'));
  }

  // --- connection -------------------------------------------------------------------------------

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    const previous = this.currentState;
    this.currentState = state;
    this.emit('state', { state, previous });
  }

  /**
   * Opens a connection. A `standby` connection replaces a live one that is near API Gateway's
   * maximum duration: it takes over once open, and the old one is closed (see `rotate`).
   */
  private async connect(standby = false): Promise<void> {
    if (!standby) this.reconnectTimer = undefined;
    if (this.stopped.signal.aborted) return;
    let token: string | undefined;
    try {
      token = await this.getToken();
    } catch (error) {
      this.emit('error', new ChatClientError('network', `getToken failed: ${(error as Error).message}`, { cause: error }));
      if (standby) this.rotation = undefined;
      else this.scheduleReconnect();
      return;
    }
    if (this.stopped.signal.aborted) return;
    const url = new URL(this.wsUrl);
    url.searchParams.set('room', this.room);
    if (token) url.searchParams.set('token', token);
    let opened = false;
    const socket = new this.Socket(url.toString());
    if (standby) this.standby = socket;
    else this.socket = socket;
    socket.onopen = () => {
      opened = true;
      if (!standby) this.onOpen();
      else if (this.standby === socket) this.takeOver(socket);
      else socket.close(1000, 'not needed');
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.onFrame(event.data);
    };
    socket.onerror = () => {
      // Always followed by close, which decides what to do.
    };
    socket.onclose = () => {
      if (this.standby === socket) {
        // The replacement failed: the live connection carries on until the service closes it.
        this.standby = undefined;
        this.rotation = undefined;
        this.pump();
      }
      if (this.socket !== socket) return;
      this.socket = undefined;
      void this.onClose(opened);
    };
  }

  /**
   * Near API Gateway's maximum connection duration: once no reply is awaited, a second connection
   * is opened; when it is open it takes over and resumes, and the old one is closed. Items fanned
   * out to the old one meanwhile come again through the resume, so the app sees no state change.
   */
  private rotate(): void {
    this.rotation = 'waiting';
    this.pump();
  }

  private takeOver(socket: SocketLike): void {
    const old = this.socket;
    this.standby = undefined;
    this.rotation = undefined;
    this.socket = socket;
    this.finishInFlight();
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.close(1000, 'replaced');
    }
    this.onOpen();
  }

  private onOpen(): void {
    this.failures = 0;
    const reconnected = this.firstOpenAt !== undefined;
    this.firstOpenAt ??= Date.now();
    this.armKeepAlive();
    clearTimeout(this.rotateTimer);
    const rotateIn = this.options.maxConnectionMs - this.options.rotateBeforeMs;
    if (rotateIn > 0) this.rotateTimer = setTimeout(() => this.rotate(), rotateIn);
    if (reconnected || this.last !== undefined) {
      this.resuming = true;
      this.requestResume(this.resumeCursor());
    } else {
      this.setState('open');
      this.pump();
    }
  }

  /** Where to resume: a little before the last id seen (or the first connection's time). */
  private resumeCursor(): string {
    const time = this.last !== undefined ? ulidTime(this.last) : (this.firstOpenAt ?? Date.now());
    return ulidFloor((Number.isNaN(time) ? Date.now() : time) - this.options.resumeOverlapMs);
  }

  private async onClose(opened: boolean): Promise<void> {
    this.clearKeepAlive();
    clearTimeout(this.rotateTimer);
    // A replacement still opening is dropped: a plain reconnect follows.
    this.rotation = undefined;
    const standby = this.standby;
    this.standby = undefined;
    standby?.close(1000, 'not needed');
    const lost = this.inFlight;
    if (lost) clearTimeout(lost.timer);
    this.inFlight = undefined;
    // Items of an unfinished resume come again with the next one (the cursor has not moved).
    this.resuming = false;
    this.buffer = [];
    if (this.stopped.signal.aborted) return;
    this.setState(this.currentState === 'connecting' && !opened ? 'connecting' : 'reconnecting');
    if (!opened) {
      const refused = await this.rest.probeToken(this.room);
      if (refused) return this.stop(refused);
      this.failures++;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped.signal.aborted || this.reconnectTimer) return;
    if (this.currentState === 'open') this.setState('reconnecting');
    const delay = backoffDelay(this.failures, this.backoff);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  /** Closes a connection that stopped answering; onclose reconnects. */
  private dropConnection(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      socket.close(4000, reason);
    } catch {
      // Already closing.
    }
    // Some implementations wait for the peer's close frame, which a dead peer never sends.
    socket.onclose?.({ code: 4000, reason });
  }

  private stop(error: ChatClientError): void {
    if (this.stopped.signal.aborted) return;
    this.setState('closed');
    this.stopped.abort();
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.pauseTimer);
    clearTimeout(this.rotateTimer);
    this.clearKeepAlive();
    this.standby?.close(1000, 'client closed');
    this.standby = undefined;
    if (this.inFlight) clearTimeout(this.inFlight.timer);
    this.inFlight = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'client closed');
    for (const pending of this.outbox.splice(0)) pending.reject(error);
    if (error.code !== 'closed') this.emit('error', error);
  }

  // --- frames -----------------------------------------------------------------------------------

  private sendFrame(action: WsAction, data: unknown): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WS_OPEN) return false;
    socket.send(JSON.stringify({ action, data }));
    this.armKeepAlive();
    return true;
  }

  private expectReply(entry: Omit<InFlight, 'timer'> & { send?: PendingSend }): void {
    const timer = setTimeout(() => this.dropConnection('no reply'), this.options.replyTimeoutMs);
    this.inFlight = { ...entry, timer } as InFlight;
  }

  private finishInFlight(): InFlight | undefined {
    const done = this.inFlight;
    if (done) clearTimeout(done.timer);
    this.inFlight = undefined;
    return done;
  }

  private requestResume(after: string): void {
    if (this.sendFrame('resume', { after, room: this.room })) this.expectReply({ kind: 'resume' });
  }

  private onFrame(raw: unknown): void {
    const frame = parseServerFrame(raw, WS_EVENTS);
    if (!frame) return;
    switch (frame.event) {
      case 'connected':
        this.emit('connected', (frame as ServerFrame<'connected'>).data);
        break;
      case 'message':
      case 'broadcast':
      case 'notification': {
        const data = frame.data as ChatMessage | PublishedEvent;
        if (typeof data?.id === 'string') this.receive({ kind: frame.event, id: data.id, data } as Item);
        break;
      }
      case 'message_received':
        this.onAck((frame as ServerFrame<'message_received'>).data.message);
        break;
      case 'error':
        this.onError((frame as ServerFrame<'error'>).data);
        break;
      case 'pong':
        if (this.inFlight?.kind === 'ping') this.finishInFlight();
        this.pump();
        break;
      case 'resumed':
        this.onResumed((frame as ServerFrame<'resumed'>).data);
        break;
      case 'removed': {
        const { room } = (frame as ServerFrame<'removed'>).data;
        this.emit('removed', { room });
        // Reconnecting would only be refused: the room is no longer this user's.
        if (room === this.room) this.stop(new ChatClientError('forbidden', `Removed from room ${room}`));
        break;
      }
      case 'presence':
        this.emit('presence', (frame as ServerFrame<'presence'>).data);
        break;
      case 'typing':
        this.typingTracker.receive((frame as ServerFrame<'typing'>).data);
        break;
      default:
        break;
    }
  }

  private receive(item: Item): void {
    if (this.resuming) {
      this.buffer.push(item);
      return;
    }
    this.deliver(item);
  }

  private deliver(item: Item): void {
    if (this.seen.has(item.id) || (this.floor !== undefined && item.id <= this.floor)) return;
    this.seen.add(item.id);
    if (this.last === undefined || item.id > this.last) this.last = item.id;
    if (item.kind === 'notification') this.emit('notification', item.data);
    else {
      if (item.kind === 'message') this.typingTracker.messageFrom(item.data.room, item.data.sender);
      this.emit(item.kind, item.data);
    }
  }

  private onResumed(data: ResumedData): void {
    if (this.inFlight?.kind !== 'resume') return;
    this.finishInFlight();
    if (!data.complete) {
      this.requestResume(data.last_id);
      return;
    }
    const items = this.buffer.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.buffer = [];
    this.resuming = false;
    for (const item of items) this.deliver(item);
    this.emit('resumed', data);
    this.setState('open');
    this.pump();
  }

  private onAck(message: ChatMessage | undefined): void {
    const done = this.inFlight?.kind === 'send' ? this.finishInFlight() : undefined;
    if (done?.kind !== 'send' || !message?.id) return;
    this.outbox.shift();
    // The service does not echo a sender's own message to it: it joins the room's timeline here.
    this.deliver({ kind: 'message', id: message.id, data: message });
    done.send.resolve(message);
    this.pump();
  }

  private onError(error: ErrorData): void {
    // A refused `typing` (another tab of the user typed in the same interval) answers no frame in flight.
    if ((error.details as { action?: string } | undefined)?.action === 'typing') return;
    const done = this.finishInFlight();
    const failure = new ChatClientError(error.code, error.message, { details: error.details });
    if (done?.kind === 'send') {
      this.settleFailedSend(done.send, failure);
    } else if (done?.kind === 'resume') {
      // The cursor was refused (it never should be): report it and carry on live.
      this.resuming = false;
      const items = this.buffer;
      this.buffer = [];
      for (const item of items) this.deliver(item);
      this.emit('error', failure);
      this.setState('open');
    } else {
      this.emit('error', failure);
    }
    this.pump();
  }

  private settleFailedSend(send: PendingSend, failure: ChatClientError): void {
    send.attempts++;
    if (isRetryable(failure.code) && send.attempts < this.options.sendAttempts) {
      this.pauseSends(retryAfterMs(failure.details) ?? backoffDelay(send.attempts, this.backoff));
      return;
    }
    this.outbox.splice(this.outbox.indexOf(send), 1);
    send.reject(failure);
  }

  private pauseSends(ms: number): void {
    this.sendsPaused = true;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => {
      this.sendsPaused = false;
      this.pump();
    }, ms);
  }

  // --- sending ----------------------------------------------------------------------------------

  private withClientId<T extends object>(data: T, clientId: string | undefined): T & { client_id?: string } {
    return clientId === undefined ? data : { ...data, client_id: clientId };
  }

  /** Sends the head of the outbox when nothing is in flight. */
  private pump(): void {
    if (this.stopped.signal.aborted || this.inFlight || this.restBusy) return;
    if (this.rotation === 'waiting') {
      this.rotation = 'opening';
      void this.connect(true);
    }
    if (this.rotation || this.sendsPaused) return;
    const head = this.outbox[0];
    if (!head) return;
    const data = this.withClientId({ room: this.room, ...head.draft }, head.clientId);
    if (frameBytes({ action: 'message', data }) > LIMITS.wsFrameBytes) {
      void this.sendOverRest(head, data);
      return;
    }
    if (this.currentState !== 'open' || this.resuming) return;
    if (this.sendFrame('message', data)) this.expectReply({ kind: 'send', send: head });
  }

  private async sendOverRest(head: PendingSend, data: MessageDraft & { client_id?: string }): Promise<void> {
    this.restBusy = true;
    try {
      const message = await this.rest.postMessage(data, { untilClosed: true });
      this.outbox.splice(this.outbox.indexOf(head), 1);
      this.deliver({ kind: 'message', id: message.id, data: message });
      head.resolve(message);
    } catch (error) {
      const failure = error instanceof ChatClientError ? error : new ChatClientError('network', String(error));
      if (failure.code === 'token_refused') return this.stop(failure);
      if (failure.code === 'closed') return;
      this.outbox.splice(this.outbox.indexOf(head), 1);
      head.reject(failure);
    } finally {
      this.restBusy = false;
      this.pump();
    }
  }

  // --- keep-alive -------------------------------------------------------------------------------

  private armKeepAlive(): void {
    this.clearKeepAlive();
    this.keepAliveTimer = setTimeout(() => {
      this.keepAliveTimer = undefined;
      // A reply already in flight proves the connection; otherwise ask for a pong.
      if (!this.inFlight && !this.rotation && this.sendFrame('ping', {})) this.expectReply({ kind: 'ping' });
      else this.armKeepAlive();
    }, this.options.keepAliveMs);
  }

  private clearKeepAlive(): void {
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }
}

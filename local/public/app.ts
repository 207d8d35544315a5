/**
 * The chat demo page. Plain TypeScript and DOM, no framework. It talks to the service's three
 * public endpoints exactly as a deployed frontend would:
 * - the WebSocket API (`{"action", "data"}` frames out, `{"event", "data"}` frames in),
 * - the HTTP API (history, broadcast, publish, the dev token, and media too big for one frame),
 * - the SSE stream on the streaming Function URL, read with fetch so that every event name shows
 *   (EventSource only reports the names it was told about in advance).
 *
 * Endpoints: `?api=`, `?ws=`, `?sse=` query parameters; else `/config.json` when the server has
 * one (the local runtime does); else derived from the page's own origin (WebSocket on port + 1,
 * SSE on port + 2, the local runtime's default layout).
 *
 * Built into app.js by local/page/build.ts (committed; a test checks it is up to date).
 */
import type { ChatMessage, PublishedEvent } from '../../lambdas/domain/model.js';
import { AUDIO_FORMATS, IMAGE_FORMATS } from '../../lambdas/domain/media.js';
import { LIMITS, MEDIA_MAX_BASE64_CHARS } from '../../lambdas/shared/limits.js';
import { HTTP_ROUTES, type HttpOperation, SSE_PATH, type WsAction } from '../../lambdas/shared/routes.js';
import { type SseEvent, SseParser } from './sse-parser.js';

/** Issued by the local runtime only; a 404 means the service runs without tokens. */
const DEV_TOKEN_PATH = '/api/dev/token';
const ROOM_RE = /^[A-Za-z0-9_.:-]+$/;
const HISTORY_PAGE = 50;
/** API Gateway closes idle sockets after 10 minutes: ping well before. */
const PING_EVERY_MS = Math.floor(LIMITS.wsIdleTimeoutMs / 2);
const MAX_SSE_ENTRIES = 200;
const RECORD_BITRATE = 32_000;
/** Stop recording while the clip still fits the media limit (with a margin for container overhead). */
const MAX_RECORD_MS = Math.floor(((LIMITS.mediaMaxBytes * 8) / RECORD_BITRATE) * 1000 * 0.75);

type MediaKind = 'image' | 'audio';

interface Endpoints {
  api: string;
  ws: string;
  sseStream: string;
}

interface ServerFrame {
  event?: string;
  data?: unknown;
  /** API Gateway's own frame when an integration fails. */
  message?: string;
}

// ---------------------------------------------------------------------------------------------
// DOM helpers

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node as T;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const ui = {
  status: byId('status'),
  identity: byId('identity'),
  endpoints: byId('endpoints'),
  errors: byId('errors'),
  joinForm: byId<HTMLFormElement>('join-form'),
  name: byId<HTMLInputElement>('name'),
  room: byId<HTMLInputElement>('room'),
  connectBtn: byId<HTMLButtonElement>('connect-btn'),
  disconnectBtn: byId<HTMLButtonElement>('disconnect-btn'),
  roomLabel: byId('room-label'),
  loadOlder: byId<HTMLButtonElement>('load-older'),
  messages: byId<HTMLOListElement>('messages'),
  composer: byId<HTMLFormElement>('composer'),
  text: byId<HTMLInputElement>('text'),
  sendBtn: byId<HTMLButtonElement>('send-btn'),
  imageInput: byId<HTMLInputElement>('image-input'),
  audioInput: byId<HTMLInputElement>('audio-input'),
  recordBtn: byId<HTMLButtonElement>('record-btn'),
  broadcastForm: byId<HTMLFormElement>('broadcast-form'),
  broadcastText: byId<HTMLInputElement>('broadcast-text'),
  broadcastBtn: byId<HTMLButtonElement>('broadcast-btn'),
  publishForm: byId<HTMLFormElement>('publish-form'),
  eventType: byId<HTMLInputElement>('event-type'),
  eventData: byId<HTMLTextAreaElement>('event-data'),
  publishBtn: byId<HTMLButtonElement>('publish-btn'),
  sseStatus: byId('sse-status'),
  sseLog: byId<HTMLOListElement>('sse-log'),
};

// ---------------------------------------------------------------------------------------------
// State

const state = {
  endpoints: undefined as Endpoints | undefined,
  name: '',
  room: '',
  token: undefined as string | undefined,
  socket: undefined as WebSocket | undefined,
  /** The user wants a connection (reconnect after an unexpected close). */
  wanted: false,
  /** Bumped on every connect/disconnect, so late async results of an old attempt are ignored. */
  generation: 0,
  attempts: 0,
  reconnectTimer: undefined as ReturnType<typeof setTimeout> | undefined,
  pingTimer: undefined as ReturnType<typeof setInterval> | undefined,
  /** Newest stream id seen: a reconnect resumes after it. */
  lastId: undefined as string | undefined,
  historyLoaded: false,
  olderBefore: undefined as string | undefined,
  seen: new Set<string>(),
  sse: undefined as AbortController | undefined,
  recorder: undefined as MediaRecorder | undefined,
};

// ---------------------------------------------------------------------------------------------
// Endpoints

const trimSlash = (url: string) => url.replace(/\/+$/, '');

async function loadConfig(): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (!res.ok) return undefined;
    const body: unknown = await res.json();
    return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function siblingPort(scheme: 'ws' | 'http', offset: number): string {
  const here = new URL(location.origin);
  const secure = here.protocol === 'https:';
  const port = Number(here.port || (secure ? 443 : 80)) + offset;
  const protocol = scheme === 'ws' ? (secure ? 'wss:' : 'ws:') : here.protocol;
  return `${protocol}//${here.hostname.includes(':') ? `[${here.hostname}]` : here.hostname}:${port}`;
}

async function discoverEndpoints(): Promise<Endpoints> {
  const params = new URLSearchParams(location.search);
  const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  let ws = str(params.get('ws'));
  let sse = str(params.get('sse'));
  if (!ws || !sse) {
    const config = await loadConfig();
    ws ??= str(config?.wsUrl);
    sse ??= str(config?.sseUrl);
  }
  ws ??= siblingPort('ws', 1);
  sse ??= siblingPort('http', 2);
  const sseBase = trimSlash(sse);
  return {
    // The page's own origin serves the HTTP API unless told otherwise.
    api: trimSlash(str(params.get('api')) ?? location.origin),
    ws: trimSlash(ws),
    sseStream: sseBase.endsWith(SSE_PATH) ? sseBase : sseBase + SSE_PATH,
  };
}

function endpoints(): Endpoints {
  if (!state.endpoints) throw new Error('Endpoints are not known yet');
  return state.endpoints;
}

// ---------------------------------------------------------------------------------------------
// HTTP API

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string }; message?: string };
    code = body.error?.code ?? code;
    message = body.error?.message ?? body.message ?? message;
  } catch {
    // not JSON
  }
  return new ApiError(res.status, code, message);
}

const routeOf = (operation: HttpOperation) => {
  const route = HTTP_ROUTES.find((r) => r.operation === operation);
  if (!route) throw new Error(`No route for ${operation}`);
  return route;
};

async function callApi<T>(operation: HttpOperation, options: { body?: unknown; query?: Record<string, string> } = {}): Promise<T> {
  const route = routeOf(operation);
  const url = new URL(endpoints().api + route.path);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const res = await fetch(url, {
    method: route.method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** A token for `name` with the admin role (so the demo can broadcast and publish); none when the
 * service has no dev token route (auth off). */
async function fetchToken(name: string): Promise<string | undefined> {
  const res = await fetch(endpoints().api + DEV_TOKEN_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: name, roles: ['admin'] }),
  });
  if (res.status === 404) return undefined;
  if (!res.ok) throw await errorOf(res);
  const body = (await res.json()) as { token?: unknown };
  if (typeof body.token !== 'string') throw new Error(`${DEV_TOKEN_PATH} answered without a token`);
  return body.token;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const IMAGE_MIME: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
const AUDIO_MIME: Record<string, string> = { wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', webm: 'audio/webm' };
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function timeOf(iso: string | undefined): string {
  const date = iso ? new Date(iso) : new Date();
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
}

function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function showError(text: string): void {
  const line = h('p', { text });
  ui.errors.append(line);
  while (ui.errors.childElementCount > 4) ui.errors.firstElementChild?.remove();
  setTimeout(() => line.remove(), 10_000);
}

function scrollToEnd(list: HTMLElement): void {
  list.scrollTop = list.scrollHeight;
}

/** Inserts an entry with a stream id in id order (ids sort by time), others at the end. */
function insertEntry(entry: HTMLLIElement, id?: string): void {
  const atEnd = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
  let before: Element | null = null;
  if (id) {
    for (const node of Array.from(ui.messages.children)) {
      const other = (node as HTMLElement).dataset.id;
      if (other && other > id) {
        before = node;
        break;
      }
    }
  }
  ui.messages.insertBefore(entry, before);
  if (atEnd || !before) scrollToEnd(ui.messages);
}

function note(text: string, kind: 'system' | 'error' = 'system'): void {
  insertEntry(h('li', { className: `msg ${kind}`, text }));
}

function trackId(id: string): boolean {
  if (state.seen.has(id)) return false;
  state.seen.add(id);
  if (!state.lastId || id > state.lastId) state.lastId = id;
  return true;
}

function mediaBody(message: ChatMessage): Node {
  const format = (message.format ?? '').toLowerCase();
  const content = message.content ?? '';
  if (!BASE64_RE.test(content)) return h('em', { text: `[${message.type}: not base64]` });
  if (message.type === 'image') {
    const mime = IMAGE_MIME[format];
    if (!mime) return h('em', { text: `[image in unsupported format ${format}]` });
    return h('img', { attrs: { src: `data:${mime};base64,${content}`, alt: `image from ${message.sender}` } });
  }
  const mime = AUDIO_MIME[format];
  if (!mime) return h('em', { text: `[audio in unsupported format ${format}]` });
  const audio = h('audio', { attrs: { controls: '', preload: 'metadata', src: `data:${mime};base64,${content}` } });
  return audio;
}

function addMessage(message: ChatMessage, kind: 'message' | 'broadcast'): void {
  if (!message?.id || !trackId(message.id)) return;
  const own = kind === 'message' && message.sender === state.name;
  const body = h('div', { className: 'body' });
  if (message.type === 'text') body.textContent = message.content;
  else body.append(mediaBody(message));
  const meta = h(
    'div',
    { className: 'meta' },
    h('span', { className: 'sender', text: kind === 'broadcast' ? `Broadcast from ${message.sender}` : message.sender }),
    h('time', { text: timeOf(message.timestamp), attrs: { datetime: message.timestamp ?? '' } }),
  );
  const entry = h(
    'li',
    {
      className: `msg ${kind}${own ? ' own' : ''}`,
      attrs: { 'data-id': message.id, 'data-type': message.type, 'data-sender': message.sender },
    },
    meta,
    body,
  );
  insertEntry(entry, message.id);
}

function addNotification(event: PublishedEvent): void {
  if (!event?.id || !trackId(event.id)) return;
  const entry = h(
    'li',
    { className: 'msg notification', attrs: { 'data-id': event.id, 'data-event-type': event.event_type } },
    h(
      'div',
      { className: 'meta' },
      h('span', { className: 'sender', text: `Notification: ${event.event_type}` }),
      h('time', { text: timeOf(event.timestamp), attrs: { datetime: event.timestamp ?? '' } }),
    ),
    h('div', { className: 'body' }, h('code', { text: JSON.stringify(event.data) })),
  );
  insertEntry(entry, event.id);
}

/** Long base64 payloads are shortened in the SSE panel. */
function shorten(data: string): string {
  try {
    const value = JSON.parse(data) as Record<string, unknown>;
    if (value && typeof value === 'object' && typeof value.content === 'string' && value.content.length > 80) {
      value.content = `${value.content.slice(0, 48)}… (${value.content.length} chars)`;
    }
    return JSON.stringify(value);
  } catch {
    return data.length > 500 ? `${data.slice(0, 500)}…` : data;
  }
}

function addSseEntry(event: SseEvent): void {
  const entry = h(
    'li',
    { className: 'sse-entry', attrs: { 'data-event': event.event, 'data-id': event.id } },
    h('span', { className: 'sse-event', text: event.event }),
    h('span', { className: 'sse-id', text: event.id }),
    h('pre', { className: 'sse-data', text: shorten(event.data) }),
  );
  ui.sseLog.append(entry);
  while (ui.sseLog.childElementCount > MAX_SSE_ENTRIES) ui.sseLog.firstElementChild?.remove();
  scrollToEnd(ui.sseLog);
}

function setStatus(value: 'disconnected' | 'connecting' | 'connected' | 'reconnecting'): void {
  ui.status.dataset.state = value;
  ui.status.textContent = value;
  const connected = value === 'connected';
  for (const control of [ui.text, ui.sendBtn, ui.imageInput, ui.audioInput, ui.recordBtn, ui.broadcastBtn, ui.publishBtn]) {
    control.disabled = !connected;
  }
  ui.disconnectBtn.disabled = value === 'disconnected';
  ui.connectBtn.textContent = connected ? 'Join' : 'Connect';
}

function setSseStatus(value: 'closed' | 'connecting' | 'open' | 'reconnecting'): void {
  ui.sseStatus.dataset.state = value;
  ui.sseStatus.textContent = value;
}

// ---------------------------------------------------------------------------------------------
// WebSocket

function sendAction(action: WsAction, data: Record<string, unknown>): boolean {
  const socket = state.socket;
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    showError('Not connected');
    return false;
  }
  socket.send(JSON.stringify({ action, data }));
  return true;
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

function clearRoomView(): void {
  ui.messages.replaceChildren();
  state.seen.clear();
  state.lastId = undefined;
  state.historyLoaded = false;
  state.olderBefore = undefined;
  ui.loadOlder.hidden = true;
}

function onFrame(raw: unknown): void {
  if (typeof raw !== 'string') return;
  let frame: ServerFrame;
  try {
    frame = JSON.parse(raw) as ServerFrame;
  } catch {
    note(`Unreadable frame: ${raw.slice(0, 80)}`, 'error');
    return;
  }
  const data = (frame.data ?? {}) as Record<string, unknown>;
  switch (frame.event) {
    case 'connected':
      onConnected(data);
      break;
    case 'message':
      addMessage(data as unknown as ChatMessage, 'message');
      break;
    case 'message_received':
      addMessage(data.message as ChatMessage, 'message');
      break;
    case 'broadcast':
      addMessage(data as unknown as ChatMessage, 'broadcast');
      break;
    case 'notification':
      addNotification(data as unknown as PublishedEvent);
      break;
    case 'joined':
      onJoined(String(data.room ?? ''));
      break;
    case 'resumed':
      if (Number(data.count) > 0) note(`Caught up on ${data.count} missed item(s)`);
      break;
    case 'error': {
      const text = `${String(data.code ?? 'error')}: ${String(data.message ?? 'unknown error')}`;
      note(text, 'error');
      showError(text);
      break;
    }
    case 'pong':
    case 'left':
      break;
    default:
      if (!frame.event && frame.message) {
        note(`Server: ${frame.message}`, 'error');
        showError(frame.message);
      }
  }
}

function onConnected(data: Record<string, unknown>): void {
  state.attempts = 0;
  setStatus('connected');
  const room = typeof data.room === 'string' ? data.room : state.room;
  ui.identity.textContent = `${state.name} @ ${room}`;
  ui.identity.title = `connection ${String(data.connection_id ?? '')}, user ${String(data.user ?? '')}`;
  ui.roomLabel.textContent = `#${room}`;
  clearInterval(state.pingTimer);
  state.pingTimer = setInterval(() => sendAction('ping', {}), PING_EVERY_MS);
  if (state.historyLoaded && state.lastId) sendAction('resume', { after: state.lastId });
  else void loadHistory();
  if (!state.sse) startSse();
}

function onJoined(room: string): void {
  if (!room) return;
  state.room = room;
  ui.room.value = room;
  ui.identity.textContent = `${state.name} @ ${room}`;
  ui.roomLabel.textContent = `#${room}`;
  clearRoomView();
  note(`Joined #${room}`);
  void loadHistory();
  startSse();
}

function clearTimers(): void {
  clearTimeout(state.reconnectTimer);
  clearInterval(state.pingTimer);
  state.reconnectTimer = undefined;
  state.pingTimer = undefined;
}

async function openSocket(): Promise<void> {
  const generation = state.generation;
  setStatus(state.attempts > 0 ? 'reconnecting' : 'connecting');
  let token: string | undefined;
  try {
    token = await fetchToken(state.name);
  } catch (error) {
    if (generation !== state.generation) return;
    showError(`Could not get a token: ${describeError(error)}`);
    scheduleReconnect();
    return;
  }
  if (generation !== state.generation) return;
  state.token = token;
  const url = new URL(endpoints().ws);
  url.searchParams.set('room', state.room);
  if (token) url.searchParams.set('token', token);
  const socket = new WebSocket(url);
  state.socket = socket;
  let opened = false;
  socket.addEventListener('open', () => {
    opened = true;
  });
  socket.addEventListener('message', (event) => onFrame(event.data));
  socket.addEventListener('close', (event) => {
    if (state.socket !== socket) return;
    state.socket = undefined;
    clearInterval(state.pingTimer);
    if (!state.wanted) return;
    if (event.code === 1009) showError('The server closed the connection: message too big');
    if (!opened && state.attempts === 0) {
      // The handshake was refused ($connect answered an error): retrying will not help.
      showError(`Could not connect to ${endpoints().ws} (room "${state.room}"): the server refused the connection`);
      disconnect();
      return;
    }
    note(`Connection closed (${event.code}${event.reason ? ` ${event.reason}` : ''}); reconnecting…`);
    scheduleReconnect();
  });
}

function scheduleReconnect(): void {
  if (!state.wanted) return;
  state.attempts += 1;
  setStatus('reconnecting');
  const delay = Math.min(1000 * 2 ** (state.attempts - 1), 15_000);
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = setTimeout(() => void openSocket(), delay);
}

function connect(name: string, room: string): void {
  disconnect();
  state.name = name;
  state.room = room;
  state.wanted = true;
  state.attempts = 0;
  state.generation += 1;
  clearRoomView();
  ui.roomLabel.textContent = `#${room}`;
  void openSocket();
}

function disconnect(): void {
  state.wanted = false;
  state.generation += 1;
  clearTimers();
  const socket = state.socket;
  state.socket = undefined;
  socket?.close(1000, 'bye');
  stopSse();
  stopRecording();
  state.token = undefined;
  setStatus('disconnected');
  ui.identity.textContent = '';
}

// ---------------------------------------------------------------------------------------------
// History

async function loadHistory(before?: string): Promise<void> {
  const room = state.room;
  const generation = state.generation;
  try {
    const query: Record<string, string> = { room, limit: String(HISTORY_PAGE) };
    if (before) query.before = before;
    const page = await callApi<{ messages: ChatMessage[]; next_before: string | null }>('history', { query });
    if (generation !== state.generation || room !== state.room) return;
    for (const message of page.messages) addMessage(message, 'message');
    if (!before) state.historyLoaded = true;
    state.olderBefore = page.next_before ?? undefined;
    ui.loadOlder.hidden = !state.olderBefore;
    if (!before && page.messages.length === 0) note(`No earlier messages in #${room}`);
  } catch (error) {
    showError(`History: ${describeError(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Sending

function sendText(text: string): void {
  const trimmed = text.trim();
  if (!trimmed) return;
  if (trimmed.length > LIMITS.textMaxChars) {
    showError(`Text is at most ${LIMITS.textMaxChars} characters`);
    return;
  }
  const data = { text: trimmed, sender: state.name };
  // A browser sends each message as one frame; API Gateway takes at most 32 KB per frame.
  if (utf8Bytes(JSON.stringify({ action: 'send_text', data })) <= LIMITS.wsFrameBytes) {
    if (sendAction('send_text', data)) ui.text.value = '';
    return;
  }
  void sendOverRest({ type: 'text', content: trimmed }).then((ok) => {
    if (ok) ui.text.value = '';
  });
}

async function sendOverRest(draft: { type: string; content: string; format?: string }): Promise<boolean> {
  try {
    const result = await callApi<{ message: ChatMessage }>('sendMessage', {
      body: { ...draft, sender: state.name, room: state.room },
    });
    addMessage(result.message, 'message');
    return true;
  } catch (error) {
    const text = describeError(error);
    note(text, 'error');
    showError(text);
    return false;
  }
}

function sendMedia(kind: MediaKind, base64: string, format: string): void {
  if (base64.length > MEDIA_MAX_BASE64_CHARS) {
    showError(`The ${kind} is larger than ${Math.round(LIMITS.mediaMaxBytes / 1024)} KB`);
    return;
  }
  const action: WsAction = kind === 'image' ? 'send_image' : 'send_audio';
  const data = { [kind]: base64, format, sender: state.name };
  if (utf8Bytes(JSON.stringify({ action, data })) <= LIMITS.wsFrameBytes) {
    sendAction(action, data);
    return;
  }
  // Too big for one WebSocket frame: the REST route takes up to LIMITS.httpBodyMaxBytes.
  void sendOverRest({ type: kind, content: base64, format });
}

const MIME_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'audio/wav': 'wav',
  'audio/wave': 'wav',
  'audio/x-wav': 'wav',
  'audio/vnd.wave': 'wav',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/ogg': 'ogg',
  'application/ogg': 'ogg',
  'video/ogg': 'ogg',
  'audio/webm': 'webm',
  'video/webm': 'webm',
};

/** The service's format name for a file: from its MIME type, else from its extension. */
function formatOf(kind: MediaKind, mime: string, fileName = ''): string | undefined {
  const base = mime.split(';')[0]!.trim().toLowerCase();
  const extension = fileName.includes('.') ? fileName.split('.').pop()!.toLowerCase() : '';
  const allowed: readonly string[] = kind === 'image' ? IMAGE_FORMATS : AUDIO_FORMATS;
  const format = MIME_FORMATS[base] ?? extension;
  return allowed.includes(format) ? format : undefined;
}

function readBase64(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('Could not read the file'));
    reader.readAsDataURL(blob);
  });
}

async function sendFile(kind: MediaKind, input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  input.value = '';
  if (!file) return;
  const format = formatOf(kind, file.type, file.name);
  if (!format) {
    const allowed = kind === 'image' ? IMAGE_FORMATS : AUDIO_FORMATS;
    showError(`${file.name}: unsupported ${kind} type "${file.type || 'unknown'}" (use ${allowed.join(', ')})`);
    return;
  }
  if (file.size > LIMITS.mediaMaxBytes) {
    showError(`${file.name} is larger than ${Math.round(LIMITS.mediaMaxBytes / 1024)} KB`);
    return;
  }
  try {
    sendMedia(kind, await readBase64(file), format);
  } catch (error) {
    showError(describeError(error));
  }
}

// ---------------------------------------------------------------------------------------------
// Recording

const RECORD_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg'];

function recordingType(): string | undefined {
  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) return undefined;
  return RECORD_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
}

function stopRecording(): void {
  if (state.recorder && state.recorder.state !== 'inactive') state.recorder.stop();
}

async function toggleRecording(): Promise<void> {
  if (state.recorder) {
    stopRecording();
    return;
  }
  const mimeType = recordingType();
  if (!mimeType) return;
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    showError(`Microphone: ${describeError(error)}`);
    return;
  }
  const recorder = new MediaRecorder(stream, { mimeType, audioBitsPerSecond: RECORD_BITRATE });
  const chunks: Blob[] = [];
  const limit = setTimeout(stopRecording, MAX_RECORD_MS);
  const startedAt = Date.now();
  const showElapsed = () => {
    const seconds = Math.floor((Date.now() - startedAt) / 1000);
    ui.recordBtn.textContent = `Stop ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  };
  const ticker = setInterval(showElapsed, 250);
  recorder.addEventListener('dataavailable', (event) => {
    if (event.data.size > 0) chunks.push(event.data);
  });
  recorder.addEventListener('stop', () => {
    clearTimeout(limit);
    clearInterval(ticker);
    for (const track of stream.getTracks()) track.stop();
    state.recorder = undefined;
    ui.recordBtn.textContent = 'Record';
    ui.recordBtn.classList.remove('recording');
    ui.recordBtn.dataset.state = 'idle';
    const type = recorder.mimeType || mimeType;
    const blob = new Blob(chunks, { type });
    const format = formatOf('audio', type);
    if (!format || blob.size === 0 || !state.socket) return;
    readBase64(blob)
      .then((base64) => sendMedia('audio', base64, format))
      .catch((error) => showError(describeError(error)));
  });
  state.recorder = recorder;
  recorder.start();
  showElapsed();
  ui.recordBtn.classList.add('recording');
  ui.recordBtn.dataset.state = 'recording';
}

// ---------------------------------------------------------------------------------------------
// SSE

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Reads the stream, and reconnects after it ends (the function ends it before its timeout) with
 * the last id, so nothing is missed. The token and last id go in the query: no preflight. */
async function runSse(room: string, signal: AbortSignal): Promise<void> {
  let lastEventId = '';
  let retryMs: number = LIMITS.sseRetryHintMs;
  let failures = 0;
  while (!signal.aborted) {
    const url = new URL(endpoints().sseStream);
    url.searchParams.set('room', room);
    // The current token: the WebSocket side fetches a fresh one on every reconnect.
    if (state.token) url.searchParams.set('token', state.token);
    if (lastEventId) url.searchParams.set('lastEventId', lastEventId);
    setSseStatus(lastEventId || failures > 0 ? 'reconnecting' : 'connecting');
    try {
      const res = await fetch(url, { signal, headers: { accept: 'text/event-stream' }, cache: 'no-store' });
      if (!res.ok || !res.body) {
        const error = await errorOf(res);
        showError(`SSE: ${describeError(error)}`);
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          setSseStatus('closed');
          return;
        }
        throw error;
      }
      setSseStatus('open');
      failures = 0;
      const parser = new SseParser(addSseEntry);
      parser.lastEventId = lastEventId;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        lastEventId = parser.lastEventId;
        retryMs = parser.retryMs ?? retryMs;
      }
    } catch (error) {
      if (signal.aborted) return;
      failures += 1;
      if (failures === 1) console.warn('SSE stream failed', error);
    }
    if (signal.aborted) return;
    setSseStatus('reconnecting');
    await sleep(Math.min(retryMs * 2 ** Math.min(failures, 4), 30_000), signal);
  }
}

function startSse(): void {
  stopSse();
  const controller = new AbortController();
  state.sse = controller;
  void runSse(state.room, controller.signal).finally(() => {
    if (state.sse === controller && controller.signal.aborted) setSseStatus('closed');
  });
}

function stopSse(): void {
  state.sse?.abort();
  state.sse = undefined;
  setSseStatus('closed');
}

// ---------------------------------------------------------------------------------------------
// Wiring

function readJoinForm(): { name: string; room: string } | undefined {
  const name = ui.name.value.trim();
  const room = ui.room.value.trim();
  if (!name || name.length > LIMITS.senderMaxChars) {
    showError(`Pick a name of 1 to ${LIMITS.senderMaxChars} characters`);
    return undefined;
  }
  if (!room || room.length > LIMITS.roomMaxChars || !ROOM_RE.test(room)) {
    showError(`A room name has 1 to ${LIMITS.roomMaxChars} letters, digits, "_", "-", ".", ":"`);
    return undefined;
  }
  return { name, room };
}

function wire(): void {
  ui.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = readJoinForm();
    if (!form) return;
    const connected = state.socket?.readyState === WebSocket.OPEN && ui.status.dataset.state === 'connected';
    if (connected && form.name === state.name) {
      if (form.room !== state.room) sendAction('join', { room: form.room });
      return;
    }
    connect(form.name, form.room);
  });
  ui.disconnectBtn.addEventListener('click', () => {
    disconnect();
    note('Disconnected');
  });
  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    sendText(ui.text.value);
  });
  ui.imageInput.addEventListener('change', () => void sendFile('image', ui.imageInput));
  ui.audioInput.addEventListener('change', () => void sendFile('audio', ui.audioInput));
  ui.recordBtn.hidden = recordingType() === undefined;
  ui.recordBtn.addEventListener('click', () => void toggleRecording());
  ui.loadOlder.addEventListener('click', () => {
    if (state.olderBefore) void loadHistory(state.olderBefore);
  });
  ui.broadcastForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const content = ui.broadcastText.value.trim();
    if (!content) return;
    callApi('broadcast', { body: { type: 'text', content, sender: state.name } })
      .then(() => {
        ui.broadcastText.value = '';
      })
      .catch((error) => showError(`Broadcast: ${describeError(error)}`));
  });
  ui.publishForm.addEventListener('submit', (event) => {
    event.preventDefault();
    let data: unknown;
    try {
      data = JSON.parse(ui.eventData.value.trim() || '{}');
    } catch {
      showError('Event data must be JSON');
      return;
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) {
      showError('Event data must be a JSON object');
      return;
    }
    callApi('publishEvent', { body: { event_type: ui.eventType.value.trim(), data } }).catch((error) =>
      showError(`Publish: ${describeError(error)}`),
    );
  });
  ui.errors.addEventListener('click', (event) => {
    if (event.target instanceof HTMLParagraphElement) event.target.remove();
  });
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  ui.name.value = params.get('name') ?? ui.name.value;
  ui.room.value = params.get('room') ?? ui.room.value;
  setStatus('disconnected');
  setSseStatus('closed');
  wire();
  state.endpoints = await discoverEndpoints();
  ui.endpoints.textContent = `ws ${state.endpoints.ws} · sse ${state.endpoints.sseStream}`;
  document.body.dataset.ready = 'true';
}

void main();

/**
 * The chat page: plain TypeScript and DOM on the service's client package (client/src), which keeps
 * the room's conversation complete across drops (reconnect, resume, de-duplication, queued sends).
 * This file wires the person's actions to a `ChatClient` per joined room and its events to the view.
 *
 * Admin tools (broadcast, publish, the SSE stream) appear only for a token with the admin role,
 * which the page asks for only when "Admin tools (local)" is ticked.
 *
 * Served by the local runtime, which bundles it with its imports on request (local/page/build.ts).
 */
import {
  ChatClient,
  ChatClientError,
  type ChatMessage,
  type ConnectionState,
  HTTP_PATHS,
  LIMITS,
  type MessageDraft,
  SSE_PATH,
  type StreamEvent,
} from '../../client/src/index.js';
import { ADMIN_ROLE, DevTokens, discoverEndpoints, type Endpoints, rolesOf } from './config.js';
import { byId, h, toast } from './dom.js';
import { allowedFormats, formatOf, type MediaKind, type Recording, readBase64, recordingType, startRecording } from './media.js';
import { installDropZone, UploadProgress, uploadWithProgress } from './attachments.js';
import { RoomsPanel } from './rooms.js';
import { PresencePanel } from './presence.js';
import { ConversationView } from './view.js';

const ROOM_RE = /^[A-Za-z0-9_.:-]+$/;
const NAME_RE = /^[A-Za-z0-9_.:@-]+$/;
const NAME_MAX = 64;
const STORE = { name: 'chat.name', room: 'chat.room' } as const;
const MAX_SSE_ENTRIES = 200;
/** The phone layout's breakpoint (style.css). */
const NARROW = '(max-width: 760px)';
/** Messages per history page; `?page=` changes it (1..LIMITS.historyMaxPage). */
const HISTORY_PAGE = (() => {
  const asked = Number(new URLSearchParams(location.search).get('page'));
  return Number.isInteger(asked) && asked >= 1 && asked <= LIMITS.historyMaxPage ? asked : 30;
})();
/** Scrolled this close to the top of the timeline, the next older page loads. */
const SCROLL_LOAD_PX = 40;

const ui = {
  status: byId('status'),
  identity: byId('identity'),
  roomLabel: byId('room-label'),
  leaveBtn: byId<HTMLButtonElement>('leave-btn'),
  toasts: byId('toasts'),
  endpoints: byId('endpoints'),
  joinPanel: byId<HTMLDetailsElement>('join-panel'),
  joinSummary: byId('join-summary'),
  joinForm: byId<HTMLFormElement>('join-form'),
  name: byId<HTMLInputElement>('name'),
  room: byId<HTMLInputElement>('room'),
  adminToggle: byId<HTMLInputElement>('admin-toggle'),
  joinBtn: byId<HTMLButtonElement>('join-btn'),
  scroller: byId('scroller'),
  loadOlder: byId<HTMLButtonElement>('load-older'),
  messages: byId<HTMLOListElement>('messages'),
  empty: byId('empty'),
  composer: byId<HTMLFormElement>('composer'),
  text: byId<HTMLTextAreaElement>('text'),
  sendBtn: byId<HTMLButtonElement>('send-btn'),
  imageInput: byId<HTMLInputElement>('image-input'),
  audioInput: byId<HTMLInputElement>('audio-input'),
  recordBtn: byId<HTMLButtonElement>('record-btn'),
  uploadProgress: byId<HTMLProgressElement>('upload-progress'),
  layout: byId('layout'),
  admin: byId('admin'),
  broadcastForm: byId<HTMLFormElement>('broadcast-form'),
  broadcastText: byId<HTMLInputElement>('broadcast-text'),
  publishForm: byId<HTMLFormElement>('publish-form'),
  eventType: byId<HTMLInputElement>('event-type'),
  eventData: byId<HTMLTextAreaElement>('event-data'),
  sseStatus: byId('sse-status'),
  sseLog: byId<HTMLOListElement>('sse-log'),
};

/** One joined room: its client, its history pages, its SSE reader. */
interface Session {
  client: ChatClient;
  tokens: DevTokens;
  name: string;
  room: string;
  admin: boolean;
  /** With auth on the service takes the sender from the token; with it off the page names it. */
  namesSender: boolean;
  history: AsyncGenerator<ChatMessage[], void, undefined>;
  /** The next (older) history page, fetched ahead so "load older" is instant. */
  nextPage: Promise<IteratorResult<ChatMessage[], void>> | undefined;
  loadingOlder: boolean;
  stop: AbortController;
}

let endpoints: Endpoints | undefined;
let session: Session | undefined;
let recording: Recording | undefined;

const view = new ConversationView(ui.messages, ui.scroller, ui.empty, () => session?.name);
const rooms = new RoomsPanel({
  open(room) {
    ui.room.value = room;
    const form = readJoinForm();
    if (form) void join(form);
  },
  showError: (text) => showError(text),
  showInfo: (text) => toast(ui.toasts, text, 'info'),
});
const presence = new PresencePanel(byId('members'), byId<HTMLUListElement>('member-list'), byId('typing'));

function describe(error: unknown): string {
  if (error instanceof ChatClientError) return error.code === 'network' || error.code === 'protocol' ? error.message : `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

const showError = (text: string) => toast(ui.toasts, text);

// --- status -------------------------------------------------------------------------------------

const STATUS_TEXT: Record<ConnectionState | 'offline', string> = {
  offline: 'Offline',
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

function setStatus(state: ConnectionState | 'offline'): void {
  ui.status.dataset.state = state;
  const queued = session?.client.pending ?? 0;
  ui.status.textContent = state !== 'open' && queued > 0 ? `${STATUS_TEXT[state]} · ${queued} queued` : STATUS_TEXT[state];
  // Sends are queued while the connection is down, so the composer stays usable in a session.
  const usable = session !== undefined && state !== 'closed';
  for (const control of [ui.text, ui.sendBtn, ui.imageInput, ui.audioInput, ui.recordBtn]) control.disabled = !usable;
}

function setSseStatus(state: 'closed' | 'connecting' | 'open' | 'reconnecting'): void {
  ui.sseStatus.dataset.state = state;
  ui.sseStatus.textContent = state;
}

/** Messages that arrived while the tab was in the background, counted in its title. */
let unread = 0;
function setUnread(count: number): void {
  unread = count;
  const room = session ? `#${session.room} · ` : '';
  document.title = `${count > 0 ? `(${count}) ` : ''}${room}Serverless chat`;
}

// --- joining and leaving --------------------------------------------------------------------------

function readJoinForm(): { name: string; room: string; admin: boolean } | undefined {
  const name = ui.name.value.trim();
  const room = ui.room.value.trim();
  if (!name || name.length > NAME_MAX || !NAME_RE.test(name)) {
    showError(`A name has 1 to ${NAME_MAX} letters, digits, "_", ".", ":", "@", "-"`);
    ui.name.focus();
    return undefined;
  }
  if (!room || room.length > LIMITS.roomMaxChars || !ROOM_RE.test(room)) {
    showError(`A room name has 1 to ${LIMITS.roomMaxChars} letters, digits, "_", "-", ".", ":"`);
    ui.room.focus();
    return undefined;
  }
  return { name, room, admin: ui.adminToggle.checked };
}

/**
 * The SSE stream goes through `fetch`: watching its requests gives the pane a connection state
 * that the client's event iterator does not report.
 */
function watchingFetch(sseBase: string): typeof fetch {
  const streamUrl = `${sseBase}${SSE_PATH}`;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(streamUrl)) return fetch(input, init);
    setSseStatus(ui.sseStatus.dataset.state === 'open' ? 'reconnecting' : 'connecting');
    try {
      const res = await fetch(input, init);
      setSseStatus(res.ok ? 'open' : 'reconnecting');
      return res;
    } catch (error) {
      if (!init?.signal?.aborted) setSseStatus('reconnecting');
      throw error;
    }
  };
}

async function join(form: { name: string; room: string; admin: boolean }): Promise<void> {
  const ends = endpoints;
  if (!ends) return;
  leave();
  localStorage.setItem(STORE.name, form.name);
  localStorage.setItem(STORE.room, form.room);
  const tokens = new DevTokens(ends.tokenUrl, form.name, form.admin ? [ADMIN_ROLE] : []);
  ui.joinBtn.disabled = true;
  let token: string | undefined;
  try {
    token = await tokens.get();
  } catch (error) {
    showError(describe(error));
    return;
  } finally {
    ui.joinBtn.disabled = false;
  }
  // Admin tools only for a token that carries the role (or a service without tokens).
  const admin = form.admin && (token === undefined || rolesOf(token).includes(ADMIN_ROLE));
  const client = new ChatClient({
    wsUrl: ends.ws,
    httpUrl: ends.api,
    sseUrl: ends.sse,
    room: form.room,
    getToken: () => tokens.get(),
    fetch: watchingFetch(ends.sse),
  });
  const history = client.history({ limit: HISTORY_PAGE });
  const current: Session = {
    client,
    tokens,
    name: form.name,
    room: form.room,
    admin,
    namesSender: token === undefined,
    history,
    nextPage: undefined,
    loadingOlder: false,
    stop: new AbortController(),
  };
  session = current;
  /** A handler that does nothing once this session is over (its client may still be closing). */
  const live =
    <T>(fn: (value: T) => void) =>
    (value: T) => {
      if (session === current) fn(value);
    };

  view.clear(`No messages in #${form.room} yet. Say hello!`);
  ui.roomLabel.textContent = `#${form.room}`;
  setUnread(0);
  ui.text.placeholder = `Message #${form.room}`;
  ui.identity.textContent = form.name + (admin ? ' (admin)' : '');
  ui.leaveBtn.hidden = false;
  ui.joinBtn.textContent = 'Switch room';
  ui.joinSummary.textContent = 'Room and name';
  // On a phone the conversation gets the screen; the form folds into its summary line.
  if (matchMedia(NARROW).matches) ui.joinPanel.open = false;
  ui.admin.hidden = !admin;
  ui.layout.dataset.admin = String(admin);
  setStatus('connecting');

  client.on(
    'state',
    live(({ state }) => {
      setStatus(state);
      for (const label of Array.from(ui.messages.querySelectorAll('.pending .pending-state'))) label.textContent = state === 'open' ? ' sending' : ' queued';
    }),
  );
  client.on(
    'connected',
    live((data) => {
      ui.identity.title = `user ${data.user}, connection ${data.connection_id}`;
    }),
  );
  client.on(
    'message',
    live((message) => {
      view.addMessages([message], 'message');
      if (document.hidden && message.sender !== current.name) setUnread(unread + 1);
    }),
  );
  client.on(
    'broadcast',
    live((message) => view.addMessages([message], 'broadcast')),
  );
  client.on(
    'notification',
    live((event) => view.addNotification(event)),
  );
  client.on(
    'resumed',
    live(({ count }) => {
      if (count > 0) view.addNote(`Caught up on ${count} missed ${count === 1 ? 'item' : 'items'}`);
    }),
  );
  client.on(
    'error',
    live((error) => showError(error.code === 'token_refused' ? `The service refused the token of "${form.name}": join again` : describe(error))),
  );
  client.on(
    'removed',
    live(({ room }) => {
      if (room !== current.room) return;
      leave();
      view.clear(`You were removed from ${room}.`);
    }),
  );
  // Dev tokens carry the name as their subject: the user id the service knows.
  rooms.show({ client, user: form.name, room: form.room });
  rooms.onListed = () => {
    if (session === current) ui.roomLabel.textContent = rooms.titleOf(form.room) ?? `#${form.room}`;
  };

  presence.attach(client, form.name);
  void loadOlder(current, true);
  if (admin) void readSse(current);
  ui.text.focus();
}

function leave(): void {
  const current = session;
  if (!current) return;
  session = undefined;
  presence.detach();
  recording?.stop();
  current.stop.abort();
  current.client.close();
  void current.history.return(undefined);
  ui.admin.hidden = true;
  ui.layout.dataset.admin = 'false';
  ui.loadOlder.hidden = true;
  ui.leaveBtn.hidden = true;
  ui.joinBtn.textContent = 'Join';
  ui.joinSummary.textContent = 'Join a room';
  ui.joinPanel.open = true;
  ui.identity.textContent = '';
  ui.roomLabel.textContent = '';
  setUnread(0);
  setSseStatus('closed');
  ui.sseLog.replaceChildren();
  rooms.show(undefined);
  setStatus('offline');
}

// --- history --------------------------------------------------------------------------------------

/** Shows the next older page (the newest first), and fetches the one after it. */
async function loadOlder(current: Session, first = false): Promise<void> {
  if (current.loadingOlder || (!first && !current.nextPage)) return;
  current.loadingOlder = true;
  ui.loadOlder.disabled = true;
  try {
    const page = await (current.nextPage ?? current.history.next());
    if (session !== current) return;
    if (!page.done) view.addMessages(page.value, 'message', { older: !first });
    current.nextPage = page.done ? undefined : current.history.next();
    // A rejected prefetch is reported when the reader asks for that page.
    current.nextPage?.catch(() => undefined);
    const more = current.nextPage ? await current.nextPage.then((next) => !next.done).catch(() => true) : false;
    if (session !== current) return;
    ui.loadOlder.hidden = !more;
  } catch (error) {
    current.nextPage = undefined;
    if (session === current) {
      // A room the person may not use is reported once, by the connection (`forbidden`).
      if (!(error instanceof ChatClientError && error.code === 'forbidden')) showError(`History: ${describe(error)}`);
      // The iterator ended with the failure: the next "load older" starts again from the oldest shown.
      const oldest = ui.messages.querySelector<HTMLElement>('li[data-kind="message"][data-id]')?.dataset.id;
      current.history = current.client.history({ limit: HISTORY_PAGE, ...(oldest ? { before: oldest } : {}) });
      current.nextPage = current.history.next();
      current.nextPage.catch(() => undefined);
      ui.loadOlder.hidden = false;
    }
  } finally {
    current.loadingOlder = false;
    ui.loadOlder.disabled = false;
  }
  // Scrolled to the top while this page loaded (the scroll event was ignored then): the next one.
  if (!first && session === current && !ui.loadOlder.hidden && ui.scroller.scrollTop < SCROLL_LOAD_PX) void loadOlder(current);
}

// --- sending --------------------------------------------------------------------------------------

function send(draft: MessageDraft, label: string): void {
  const current = session;
  if (!current) return;
  const pending = view.addPending(label, current.client.state !== 'open');
  const message = current.namesSender ? { ...draft, sender: current.name } : draft;
  current.client.send(message).then(
    () => pending.remove(),
    (error) => {
      pending.remove();
      if (session === current && !(error instanceof ChatClientError && error.code === 'closed')) showError(`Not sent: ${describe(error)}`);
    },
  );
  setStatus(current.client.state);
}

function sendText(): void {
  const text = ui.text.value.trim();
  if (!text || !session) return;
  if (text.length > LIMITS.textMaxChars) {
    showError(`A message has at most ${LIMITS.textMaxChars} characters`);
    return;
  }
  ui.text.value = '';
  fitComposer();
  ui.text.focus();
  send({ type: 'text', content: text }, text);
}

async function sendFile(kind: MediaKind, input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  input.value = '';
  if (file) await sendMedia(kind, file);
}

const progress = new UploadProgress(ui.uploadProgress);

/** A file larger than the inline limit: uploaded with a progress bar, then sent as an attachment. */
async function sendAttachment(kind: MediaKind, file: File, format: string): Promise<void> {
  const current = session;
  if (!current || !endpoints) return;
  const label = `${kind === 'image' ? 'Photo' : 'Audio'} ${file.name}`;
  progress.start(label);
  let attachmentId: string;
  try {
    attachmentId = await uploadWithProgress(endpoints.api, () => current.tokens.get(), file, { type: kind, format }, (f) => progress.set(f));
    progress.end(true);
  } catch (error) {
    progress.end(false);
    showError(`Not sent: ${describe(error)}`);
    return;
  }
  if (session === current) send({ type: kind, content: '', format, attachment_id: attachmentId }, label);
}

async function sendMedia(kind: MediaKind, file: File): Promise<void> {
  const format = formatOf(kind, file.type, file.name);
  if (!format) {
    showError(`${file.name}: ${kind}s can be ${allowedFormats(kind).join(', ')}`);
    return;
  }
  if (file.size > LIMITS.mediaMaxBytes) {
    await sendAttachment(kind, file, format);
    return;
  }
  try {
    send({ type: kind, content: await readBase64(file), format }, `${kind === 'image' ? 'Image' : 'Audio'} ${file.name}`);
  } catch (error) {
    showError(describe(error));
  }
}

async function toggleRecording(): Promise<void> {
  if (recording) {
    recording.stop();
    return;
  }
  try {
    recording = await startRecording((seconds) => {
      ui.recordBtn.textContent = `Stop ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
    });
  } catch (error) {
    showError(`Microphone: ${describe(error)}`);
    return;
  }
  ui.recordBtn.dataset.state = 'recording';
  ui.recordBtn.classList.add('recording');
  const { blob, format } = await recording.done;
  recording = undefined;
  ui.recordBtn.textContent = 'Record';
  ui.recordBtn.dataset.state = 'idle';
  ui.recordBtn.classList.remove('recording');
  if (!format || blob.size === 0 || !session) return;
  if (blob.size > LIMITS.mediaMaxBytes) {
    await sendAttachment('audio', new File([blob], 'voice', { type: blob.type }), format);
    return;
  }
  send({ type: 'audio', content: await readBase64(blob), format }, 'Voice message');
}

/** The message box grows with its text, up to a few lines. */
function fitComposer(): void {
  ui.text.style.height = 'auto';
  ui.text.style.height = `${Math.min(ui.text.scrollHeight, 160)}px`;
}

// --- admin tools ----------------------------------------------------------------------------------

async function adminPost(path: string, body: unknown): Promise<void> {
  const current = session;
  if (!current || !endpoints) return;
  const token = await current.tokens.get();
  const res = await fetch(`${endpoints.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (res.ok) return;
  const reply = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string }; message?: string };
  throw new Error(`${reply.error?.message ?? reply.message ?? `HTTP ${res.status}`}${reply.error?.code ? ` (${reply.error.code})` : ''}`);
}

/** Long base64 content is shortened in the SSE pane. */
function summary(event: StreamEvent): string {
  const data = event.data as unknown as Record<string, unknown>;
  if (typeof data?.content === 'string') {
    const content = data.content.length > 80 ? `${data.content.slice(0, 40)}… (${data.content.length} characters)` : data.content;
    return `${String(data.sender)}: ${data.type === 'text' ? content : `[${String(data.type)}] ${content}`}`;
  }
  return JSON.stringify((data as { data?: unknown }).data ?? data);
}

async function readSse(current: Session): Promise<void> {
  try {
    for await (const event of current.client.events({ signal: current.stop.signal })) {
      const entry = h(
        'li',
        { className: 'sse-entry', attrs: { 'data-event': event.event, 'data-id': event.id } },
        h('span', { className: 'sse-event', text: event.event }),
        h('span', { className: 'sse-data', text: summary(event) }),
      );
      ui.sseLog.prepend(entry);
      while (ui.sseLog.childElementCount > MAX_SSE_ENTRIES) ui.sseLog.lastElementChild?.remove();
    }
  } catch (error) {
    if (session === current && !current.stop.signal.aborted) showError(`SSE: ${describe(error)}`);
  } finally {
    if (session === current) setSseStatus('closed');
  }
}

// --- wiring ---------------------------------------------------------------------------------------

function wire(): void {
  ui.joinForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = readJoinForm();
    if (form) void join(form);
  });
  ui.leaveBtn.addEventListener('click', () => {
    const room = session?.room;
    leave();
    view.clear(room ? `You left #${room}.` : 'Join a room to start chatting.');
    ui.name.focus();
  });
  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    sendText();
  });
  ui.text.addEventListener('keydown', (event) => {
    // Enter sends; Shift+Enter starts a new line (and Enter while composing with an IME does not send).
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendText();
    }
  });
  ui.text.addEventListener('input', fitComposer);
  ui.text.addEventListener('input', () => presence.composing(ui.text.value));
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) setUnread(0);
  });
  ui.imageInput.addEventListener('change', () => void sendFile('image', ui.imageInput));
  ui.audioInput.addEventListener('change', () => void sendFile('audio', ui.audioInput));
  ui.recordBtn.hidden = recordingType() === undefined;
  installDropZone(ui.scroller, () => session !== undefined, (file) => {
    const kind: MediaKind | undefined = file.type.startsWith('image/') ? 'image' : file.type.startsWith('audio/') ? 'audio' : undefined;
    if (kind) void sendMedia(kind, file);
    else showError(`${file.name}: drop a photo or an audio file`);
  });
  matchMedia(NARROW).addEventListener('change', (event) => {
    if (session) ui.joinPanel.open = !event.matches;
  });
  ui.recordBtn.addEventListener('click', () => void toggleRecording());
  ui.loadOlder.addEventListener('click', () => session && void loadOlder(session));
  ui.scroller.addEventListener('scroll', () => {
    if (session && !ui.loadOlder.hidden && ui.scroller.scrollTop < SCROLL_LOAD_PX) void loadOlder(session);
  });
  ui.broadcastForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const content = ui.broadcastText.value.trim();
    if (!content || !session) return;
    const sender = session.namesSender ? { sender: session.name } : {};
    adminPost(HTTP_PATHS.broadcast, { type: 'text', content, ...sender }).then(
      () => (ui.broadcastText.value = ''),
      (error) => showError(`Broadcast: ${describe(error)}`),
    );
  });
  ui.publishForm.addEventListener('submit', (event) => {
    event.preventDefault();
    let data: unknown;
    try {
      data = JSON.parse(ui.eventData.value.trim() || '{}');
    } catch {
      showError('The event data must be JSON');
      return;
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) {
      showError('The event data must be a JSON object');
      return;
    }
    adminPost(HTTP_PATHS.publishEvent, { event_type: ui.eventType.value.trim(), data }).catch((error) => showError(`Publish: ${describe(error)}`));
  });
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  ui.name.value = params.get('name') ?? localStorage.getItem(STORE.name) ?? '';
  ui.room.value = params.get('room') ?? localStorage.getItem(STORE.room) ?? 'general';
  setStatus('offline');
  setSseStatus('closed');
  wire();
  endpoints = await discoverEndpoints();
  ui.endpoints.textContent = `HTTP ${endpoints.api} · WebSocket ${endpoints.ws} · SSE ${endpoints.sse}${SSE_PATH} · ${endpoints.tokenUrl ? 'dev tokens' : 'no tokens'}`;
  (ui.name.value ? ui.joinBtn : ui.name).focus();
  document.body.dataset.ready = 'true';
}

void main();

/**
 * The message service: the one place where messages, broadcasts and events are accepted, stored
 * and handed to fan-out. REST, the WebSocket protocols and the tasks all call it.
 */
import { LIMITS } from '../shared/limits.js';
import { ChatError } from './errors.js';
import { ulid } from './ids.js';
import type { AcceptedAttachment, AttachmentService } from './attachments.js';
import { assertFitsOneFrame, buildAttachmentMessage, buildMessage, type DraftMessage } from './messages.js';
import { type ChatMessage, GLOBAL_STREAM, type PublishedEvent, type ServerEvent, type StreamItem, roomStream } from './model.js';
import type { InlineFanout } from './inline-fanout.js';
import { previewTaskFor } from './previews.js';
import type { ClientIdRegistry, Clock, StreamStore, TaskQueue } from './ports.js';
import type { Audience, FanoutTask } from './tasks.js';

export interface ChatServiceDeps {
  store: Pick<StreamStore, 'append'>;
  tasks: Pick<TaskQueue, 'send'>;
  clock: Clock;
  retentionDays: number;
  /**
   * Inline fan-out of small rooms (functions that may post to connections): the message path
   * delivers the room itself and enqueues only what failed; without it every fan-out is a task.
   */
  inline?: Pick<InlineFanout, 'read' | 'deliverRead'>;
  /** Idempotent sends by client id; without it a `clientId` is kept on the message but not deduplicated. */
  clientIds?: ClientIdRegistry;
  /** Messages with an `attachmentId` (uploads to S3); without it such a message is refused. */
  attachments?: Pick<AttachmentService, 'accept' | 'presentMessage'>;
}

export interface SendOptions {
  room: string;
  /** The sender's connection, which gets `message_received` rather than `message`. */
  excludeConnectionId?: string;
  /**
   * Epoch ms after which the inline fan-out starts no post and hands the rest to a task (the
   * function's deadline less a margin): a timeout mid-fan-out would lose those deliveries.
   */
  handOnAfter?: number | undefined;
}

/** Wire shape of a stored item, as WebSocket `data` and SSE `data`. */
export function eventOf(item: StreamItem): ServerEvent {
  switch (item.kind) {
    case 'message':
      return { event: 'message', data: item.message };
    case 'broadcast':
      return { event: 'broadcast', data: item.message };
    case 'event':
      return { event: 'notification', data: item.event };
  }
}

export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  private ttl(now: number): number {
    return Math.floor(now / 1000) + this.deps.retentionDays * 86_400;
  }

  private async storeAndFanOut(
    item: StreamItem,
    id: string,
    audience: Audience,
    exclude?: string,
    onNotStored?: () => Promise<void>,
    wire: StreamItem = item,
    handOnAfter?: number,
  ): Promise<void> {
    // `wire` is what readers get (attachments with a signed URL); `item` is what is stored.
    const event = eventOf(wire);
    assertFitsOneFrame(JSON.stringify(event));
    const now = this.deps.clock.now();
    const task: FanoutTask = { kind: 'fanout', key: id, audience, event };
    if (exclude) task.exclude = exclude;
    // The room is read while the message is stored (two independent round trips at once: the
    // message path's latency); nothing is posted before the message is stored.
    const reading = audience.type === 'room' ? this.deps.inline?.read(task) : undefined;
    try {
      await this.deps.store.append(item, this.ttl(now));
    } catch (error) {
      await reading;
      await onNotStored?.().catch(() => undefined);
      throw error;
    }
    const page = await reading;
    if (page && this.deps.inline) {
      await this.deps.inline.deliverRead(task, page, handOnAfter);
      return;
    }
    await this.deps.tasks.send(task);
  }

  /**
   * A chat message to one room. With a client id, a retry within the window is answered with the
   * first message (same id) and nothing is stored or delivered again. The claim comes first, so of
   * two concurrent sends one stores; it is released only if the message could not be stored.
   */
  async sendMessage(draft: DraftMessage, options: SendOptions): Promise<ChatMessage> {
    if (draft.attachmentId === undefined) return this.storeMessage(draft, options, buildMessage(draft, options.room, this.deps.clock.now()));
    const attachments = this.deps.attachments;
    if (!attachments) throw new ChatError('validation_error', 'Attachments are not available here');
    const now = this.deps.clock.now();
    const usedBy = draft.clientId !== undefined ? `${draft.sender}#${draft.clientId}` : `once#${ulid(now)}`;
    const accepted: AcceptedAttachment = await attachments.accept(draft.uploader ?? draft.sender, draft.attachmentId, usedBy, now);
    let message: ChatMessage;
    const built = buildAttachmentMessage(draft, accepted.type, accepted.attachment, options.room, now);
    try {
      message = await this.storeMessage(draft, options, built);
    } catch (error) {
      await accepted.release();
      throw error;
    }
    await accepted.finish();
    // Only a newly stored message (not a retry answered with the first one) gets a preview task.
    const preview = message.id === built.id ? previewTaskFor(built) : undefined;
    // The message is stored and delivered: a preview that cannot be queued is only a missing thumbnail.
    if (preview) await this.deps.tasks.send(preview).catch(() => undefined);
    return message;
  }

  private async present(message: ChatMessage): Promise<ChatMessage> {
    return message.attachment && this.deps.attachments ? this.deps.attachments.presentMessage(message, this.deps.clock.now()) : message;
  }

  private async storeMessage(draft: DraftMessage, options: SendOptions, message: ChatMessage): Promise<ChatMessage> {
    const now = this.deps.clock.now();
    const item: StreamItem = { kind: 'message', stream: roomStream(options.room), message };
    const shown = await this.present(message);
    const wire: StreamItem = { ...item, message: shown };
    const registry = this.deps.clientIds;
    if (!registry || draft.clientId === undefined) {
      await this.storeAndFanOut(item, message.id, { type: 'room', room: options.room }, options.excludeConnectionId, undefined, wire, options.handOnAfter);
      return shown;
    }
    const key = `${message.sender}#${draft.clientId}`;
    const nowSeconds = Math.floor(now / 1000);
    const original = await registry.claim(key, message, nowSeconds, nowSeconds + LIMITS.clientIdWindowSeconds);
    if (original) return this.present(original);
    await this.storeAndFanOut(item, message.id, { type: 'room', room: options.room }, options.excludeConnectionId, () => registry.release(key), wire, options.handOnAfter);
    return shown;
  }

  /** A system message to every connection. Stored in the global stream. */
  async broadcast(draft: DraftMessage): Promise<ChatMessage> {
    const message = buildMessage(draft, GLOBAL_STREAM, this.deps.clock.now());
    const item: StreamItem = { kind: 'broadcast', stream: GLOBAL_STREAM, message };
    await this.storeAndFanOut(item, message.id, { type: 'all' });
    return message;
  }

  /** An event: SSE clients get it as an event of its type, WebSocket clients as `notification`. */
  async publishEvent(eventType: string, data: Record<string, unknown>): Promise<PublishedEvent> {
    const size = Buffer.byteLength(JSON.stringify(data), 'utf8');
    if (size > LIMITS.eventDataMaxBytes) {
      throw new ChatError('payload_too_large', `event data is at most ${LIMITS.eventDataMaxBytes} bytes of JSON`);
    }
    const now = this.deps.clock.now();
    const event: PublishedEvent = { id: ulid(now), event_type: eventType, data, timestamp: new Date(now).toISOString() };
    const item: StreamItem = { kind: 'event', stream: GLOBAL_STREAM, event };
    await this.storeAndFanOut(item, event.id, { type: 'all' });
    return event;
  }
}

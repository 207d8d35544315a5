/**
 * The response stream of a RESPONSE_STREAM invocation in the handler tests: what the Lambda runtime
 * would send to the Function URL, captured: the metadata given to `HttpResponseStream.from` (status
 * and headers), then the body bytes as the handler writes them. `close()` is the client going away:
 * as on Lambda, the handler is not told, and its later writes are swallowed.
 */
import { Writable } from 'node:stream';
import type { ResponseMetadata } from '../../local/streaming-shim.js';

export interface SseBlock {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comments: string[];
}

export class StreamCapture extends Writable {
  metadata: ResponseMetadata | undefined;
  private readonly chunks: Buffer[] = [];

  constructor() {
    super({ decodeStrings: true });
  }

  setMetadata(metadata: ResponseMetadata): void {
    this.metadata = metadata;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    callback();
  }

  get body(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** Parsed SSE blocks (one per blank-line-terminated block). */
  blocks(): SseBlock[] {
    return this.body
      .split('\n\n')
      .filter((block) => block.length > 0)
      .map((block) => {
        const event: SseBlock = { comments: [] };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) event.comments.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) event.data = line.slice(6);
          else if (line.startsWith('retry: ')) event.retry = Number(line.slice(7));
        }
        return event;
      });
  }

  /** The events that carry an id (messages, broadcasts, published events). */
  events(): Array<{ id: string; event: string; data: unknown }> {
    return this.blocks()
      .filter((b) => b.id !== undefined)
      .map((b) => ({ id: b.id!, event: b.event!, data: JSON.parse(b.data!) }));
  }

  /** The client goes away (EventSource closed). */
  close(): void {
    this.destroy();
  }
}

/** The JSON envelope protocol: client `{"action", "data"}`, server `{"event", "data"}`. */
import { ChatError } from '../domain/errors.js';
import type { ServerEvent } from '../domain/model.js';
import { clientFrameSchema } from '../domain/base-schemas.js';
import type { Codec, DecodedFrame } from './codec.js';

export const jsonCodec: Codec = {
  protocol: 'json',
  decode(raw: string): DecodedFrame {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ChatError('invalid_json', 'Frame is not valid JSON; send {"action": "<event>", "data": {...}}');
    }
    const frame = clientFrameSchema.safeParse(parsed);
    if (!frame.success) {
      throw new ChatError('validation_error', 'Frame must be an object {"action": "<event>", "data": {...}}');
    }
    return { kind: 'action', action: frame.data.action, data: frame.data.data ?? {} };
  },
  encode(event: ServerEvent): string {
    return JSON.stringify({ event: event.event, data: event.data });
  },
  encodeReply(event: ServerEvent): string {
    return JSON.stringify({ event: event.event, data: event.data });
  },
  openingFrames(): string[] {
    return [];
  },
};

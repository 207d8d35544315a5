/**
 * Wire protocols are thin codecs at the edge: they turn a client frame into an action and a server
 * event into a frame. One message service sits behind all of them.
 */
import type { ServerEvent, WireProtocol } from '../domain/model.js';
import { jsonCodec } from './json-codec.js';
import { socketioCodec } from './socketio-codec.js';

/** What a client frame asks for. */
export type DecodedFrame =
  | { kind: 'action'; action: string; data: unknown; ackId?: number }
  /** Protocol housekeeping (e.g. a Socket.IO handshake packet): reply frames only, no action. */
  | {
      kind: 'control';
      replies: string[];
      /**
       * The client asked to connect at the protocol level (Socket.IO's namespace CONNECT) with this
       * auth payload: answer with `acceptConnect` frames, then `connected`, posted in order.
       */
      connect?: { auth?: Record<string, unknown> };
    };

export interface Codec {
  readonly protocol: WireProtocol;
  /** Parses one frame; throws ChatError for frames it cannot read. */
  decode(raw: string): DecodedFrame;
  encode(event: ServerEvent): string;
  /** Reply to an action: the event frame, or an acknowledgement where the protocol has them. */
  encodeReply(event: ServerEvent, ackId?: number): string;
  /** Frames sent right after a connection opens, before `connected`. */
  openingFrames(connectionId: string): string[];
  /**
   * Protocols with their own connect handshake (Socket.IO): the frames accepting it. When present,
   * `connected` is sent after these frames instead of right after the opening frames.
   */
  acceptConnect?(connectionId: string): string[];
}

const codecs: Record<WireProtocol, Codec> = { json: jsonCodec, socketio: socketioCodec };

/** A protocol value read back from storage that is not known falls back to JSON. */
export function codecFor(protocol: WireProtocol): Codec {
  return codecs[protocol] ?? jsonCodec;
}

/** Encodes one event once per protocol present in a fan-out. */
export function encodeForProtocols(event: ServerEvent): (protocol: WireProtocol) => string {
  const cache = new Map<WireProtocol, string>();
  return (protocol) => {
    let frame = cache.get(protocol);
    if (frame === undefined) {
      frame = codecFor(protocol).encode(event);
      cache.set(protocol, frame);
    }
    return frame;
  };
}

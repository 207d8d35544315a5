/**
 * Frames as API Gateway handles them: messages the service sends are split into frames of at most
 * the frame limit (32 KB), and a client frame above that limit closes the connection with 1009.
 */
import { WebSocket } from 'ws';
import type { RuntimeLogger } from './log.js';

export const TOO_BIG = { code: 1009, reason: 'Message too big' };

/**
 * Sends one message, split into frames of at most `frameLimit` bytes (synchronously, so the
 * fragments of two messages never interleave).
 */
export function sendInFrames(ws: WebSocket, data: Buffer | string, frameLimit: number): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return new Promise((resolve, reject) => {
    if (ws.readyState !== WebSocket.OPEN) {
      reject(new Error('connection is not open'));
      return;
    }
    const done = (error?: Error) => (error ? reject(error) : resolve());
    if (buf.length <= frameLimit) {
      ws.send(buf, { binary: false, compress: false }, done);
      return;
    }
    for (let offset = 0; offset < buf.length; offset += frameLimit) {
      const last = offset + frameLimit >= buf.length;
      ws.send(buf.subarray(offset, offset + frameLimit), { binary: false, compress: false, fin: last }, last ? done : undefined);
    }
  });
}

/** Enforces the per-frame limit inside ws's parser: ws itself only limits whole messages. */
export function limitFrameSize(ws: WebSocket, frameLimit: number, logger: RuntimeLogger): void {
  const receiver = (ws as unknown as { _receiver?: Record<string, unknown> })._receiver;
  if (!receiver || typeof receiver.haveLength !== 'function' || typeof receiver.createError !== 'function') {
    logger.error('ws internals changed: the 32 KB frame limit is not enforced (only the 128 KB message limit)');
    return;
  }
  const haveLength = receiver.haveLength as (cb: (error?: Error) => void) => void;
  const createError = receiver.createError as (...args: unknown[]) => Error;
  receiver.haveLength = function (this: { _payloadLength: number; _opcode: number }, cb: (error?: Error) => void) {
    if (this._opcode < 0x08 && this._payloadLength > frameLimit) {
      cb(createError.call(this, RangeError, 'Frame size limit exceeded', false, TOO_BIG.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
      return;
    }
    haveLength.call(this, cb);
  };
  // ws closes a too-big message with 1009 and no reason; API Gateway gives one.
  const close = ws.close.bind(ws);
  ws.close = (code?: number, reason?: string | Buffer) => close(code, code === TOO_BIG.code && !reason ? TOO_BIG.reason : reason);
}

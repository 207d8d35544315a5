/** The page's incremental `text/event-stream` parser (local/public/sse-parser.ts). */
import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from '../../local/public/sse-parser.js';

function parse(chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return { events, parser };
}

describe('SseParser', () => {
  it('dispatches named events with their id and data, and unnamed ones as `message`', () => {
    const { events } = parse(['id: 1\nevent: deploy.finished\ndata: {"a":1}\n\n', 'data: plain\n\n']);
    expect(events).toEqual([
      { event: 'deploy.finished', id: '1', data: '{"a":1}' },
      { event: 'message', id: '1', data: 'plain' },
    ]);
  });

  it('joins multi-line data, ignores comments and unknown fields, and reads retry', () => {
    const { events, parser } = parse([': heartbeat\n\nretry: 1500\n\nfoo: bar\ndata: one\ndata:two\n\n']);
    expect(events).toEqual([{ event: 'message', id: '', data: 'one\ntwo' }]);
    expect(parser.retryMs).toBe(1500);
  });

  it('handles any split of the input and CRLF, CR and LF line ends', () => {
    const text = 'id: 7\r\nevent: x\r\ndata: é€\r\n\r\nid: 8\revent: y\rdata: 2\r\rid: 9\nevent: z\ndata: 3\n\n';
    const whole = parse([text]).events;
    expect(whole.map((e) => `${e.event}:${e.id}:${e.data}`)).toEqual(['x:7:é€', 'y:8:2', 'z:9:3']);
    for (let cut = 1; cut < text.length; cut++) {
      expect(parse([text.slice(0, cut), text.slice(cut)]).events).toEqual(whole);
    }
    expect(parse(Array.from(text)).events).toEqual(whole);
  });

  it('does not dispatch an event without data, and keeps the last id across events', () => {
    const { events, parser } = parse(['id: 5\nevent: empty\n\n', 'data: later\n\n']);
    expect(events).toEqual([{ event: 'message', id: '5', data: 'later' }]);
    expect(parser.lastEventId).toBe('5');
  });
});

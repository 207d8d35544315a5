/** One server-sent event as dispatched: its name (`message` when unnamed), last id and data. */
export interface SseEvent {
  event: string;
  id: string;
  data: string;
}

/** Incremental parser of the `text/event-stream` format (WHATWG HTML, server-sent events). */
export class SseParser {
  private buffer = '';
  private pendingCr = false;
  private eventName = '';
  private dataLines: string[] = [];
  lastEventId = '';
  retryMs: number | undefined;

  constructor(private readonly dispatch: (event: SseEvent) => void) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(this.buffer.slice(start, i));
      if (c === '\r') {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.dataLines.length > 0) {
        this.dispatch({ event: this.eventName || 'message', id: this.lastEventId, data: this.dataLines.join('\n') });
      }
      this.dataLines = [];
      this.eventName = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventName = value;
    else if (field === 'data') this.dataLines.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
  }
}

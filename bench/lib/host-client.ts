/** Starts a bench Lambda host (bench/lib/host.ts) and talks to it. */
import { type ChildProcess, fork } from 'node:child_process';
import { hostBundle } from './bundles.js';
import type { HostRequest, HostResponse } from './host-protocol.js';

export type InvokeResult = Extract<HostResponse, { type: 'result' }>;
export type RepeatResult = Extract<HostResponse, { type: 'repeated' }>;

export interface Host {
  invoke(fn: string, event: unknown, timeoutMs?: number): Promise<InvokeResult>;
  repeat(fn: string, events: unknown[], warmup: number): Promise<RepeatResult>;
  stop(): Promise<void>;
  readonly pid: number;
}

export interface HostOptions {
  /** Function name → bundle path (bench/lib/bundles.ts). */
  modules: Record<string, string>;
  env: Record<string, string>;
  /** Count AWS requests with SDK middleware (instrumented bundles: `handlerBundle(fn, { instrument: true })`). */
  count?: boolean;
  memory?: Record<string, number>;
  /** Extra Node flags of the host (e.g. `--cpu-prof` while profiling). */
  execArgv?: string[];
}

export async function startHost(options: HostOptions): Promise<Host> {
  const child: ChildProcess = fork(await hostBundle(), [], {
    execArgv: options.execArgv ?? [],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, (message: HostResponse) => void>();
  let onLoaded: ((message: HostResponse) => void) | undefined;
  let exited = false;
  child.on('message', (message: HostResponse) => {
    if (message.type === 'loaded') onLoaded?.(message);
    else waiting.get(message.id)?.(message);
  });
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code) => {
    exited = true;
    for (const resolve of waiting.values()) resolve({ type: 'result', id: -1, error: `host exited (${code})`, wallMs: 0, cpuMs: 0, logBytes: 0, calls: [] });
  });
  const request = (message: HostRequest) => child.send(message);
  const loaded = await new Promise<HostResponse>((resolve) => {
    onLoaded = resolve;
    request({ type: 'load', modules: options.modules, count: options.count, memory: options.memory });
  });
  if (loaded.type === 'loaded' && loaded.error) {
    child.kill();
    throw new Error(`bench host failed to load: ${loaded.error}`);
  }
  return {
    pid: child.pid ?? 0,
    invoke(fn, event, timeoutMs) {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, (m) => {
          waiting.delete(id);
          resolve(m as InvokeResult);
        });
        request({ type: 'invoke', id, fn, event, timeoutMs });
      });
    },
    repeat(fn, events, warmup) {
      const id = nextId++;
      return new Promise((resolve) => {
        waiting.set(id, (m) => {
          waiting.delete(id);
          resolve(m as RepeatResult);
        });
        request({ type: 'repeat', id, fn, events, warmup });
      });
    },
    async stop() {
      if (exited) return;
      request({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

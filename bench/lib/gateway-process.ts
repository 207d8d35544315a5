/**
 * The bench `@connections` endpoint (./gateway.ts) in a process of its own, so that its CPU is not
 * taken from the processes under test. `startGatewayProcess()` forks this file.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type GatewayOptions, type GatewayStats, startGateway } from './gateway.js';

type Request = { id: number; op: 'stats' | 'reset' | 'configure' | 'stop'; options?: GatewayOptions };

export interface RemoteGateway {
  url: string;
  pid: number;
  stats(): Promise<GatewayStats>;
  reset(): Promise<void>;
  configure(options: Pick<GatewayOptions, 'latencyMs' | 'ratePerSecond' | 'burst'>): Promise<void>;
  stop(): Promise<void>;
}

export async function startGatewayProcess(options: GatewayOptions = {}): Promise<RemoteGateway> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { PATH: process.env.PATH ?? '', GATEWAY_OPTIONS: JSON.stringify(options, (_k, v) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v)) },
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url?: string }) => (m.url ? resolve(m.url) : reject(new Error('gateway did not start'))));
    child.once('exit', (code) => reject(new Error(`gateway process exited (${code})`)));
  });
  let next = 1;
  const waiting = new Map<number, (value: unknown) => void>();
  child.on('message', (m: { id?: number; value?: unknown }) => {
    if (m.id !== undefined) waiting.get(m.id)?.(m.value);
  });
  const call = <T>(op: Request['op'], opts?: GatewayOptions) =>
    new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, (v) => {
        waiting.delete(id);
        resolve(v as T);
      });
      child.send({ id, op, options: opts } satisfies Request);
    });
  return {
    url,
    pid: child.pid ?? 0,
    stats: () => call<GatewayStats>('stats'),
    reset: () => call<void>('reset'),
    configure: (o) => call<void>('configure', o),
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call<void>('stop').catch(() => undefined);
      child.disconnect?.();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

if (process.argv.includes('--child')) {
  const options = JSON.parse(process.env.GATEWAY_OPTIONS ?? '{}', (_k, v) => (v === 'Infinity' ? Number.POSITIVE_INFINITY : v)) as GatewayOptions;
  const gateway = await startGateway(options);
  process.send?.({ url: gateway.url });
  process.on('message', async (m: Request) => {
    let value: unknown;
    if (m.op === 'stats') value = gateway.stats();
    else if (m.op === 'reset') gateway.reset();
    else if (m.op === 'configure' && m.options) gateway.configure(m.options);
    else if (m.op === 'stop') {
      await gateway.stop();
      process.send?.({ id: m.id, value: undefined }, () => process.exit(0));
      return;
    }
    process.send?.({ id: m.id, value });
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * `npm run soak`: the long form of the soak (the short form runs inside `npm test`).
 *
 *   npm run soak -- [--clients 300] [--duration 60s] [--room-size 10] [--interval 4s] [--seed N]
 *
 * Starts the local runtime on free loopback ports, connects the clients, sends for the duration,
 * drains, disconnects everyone, and prints a table of the figures. Exits non-zero when a message
 * was lost, a connection record leaked, or the heap grew by more than half.
 * SOAK_HEAP_SNAPSHOTS=<dir> also writes heap snapshots after the warm-up and at the end (open both
 * in Chrome DevTools, Memory tab, "Comparison", to see what grew).
 */
import { formatSoak, runSoak } from './soak.js';

function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) throw new Error(`Not a duration: ${value} (e.g. 500ms, 30s, 2m)`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n : match[2] === 'm' ? n * 60_000 : n * 1000;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const clients = Number(option(argv, 'clients') ?? 300);
  const durationMs = parseDuration(option(argv, 'duration') ?? '60s');
  const roomSize = Number(option(argv, 'room-size') ?? 10);
  const sendIntervalMs = parseDuration(option(argv, 'interval') ?? '4s');
  const seed = option(argv, 'seed');
  console.log(`Soak: ${clients} WebSocket connections, rooms of ${roomSize}, one message per client every ~${sendIntervalMs} ms, for ${durationMs / 1000} s`);
  const result = await runSoak({
    clients,
    durationMs,
    roomSize,
    sendIntervalMs,
    ...(seed ? { seed: Number(seed) } : {}),
    log: (line) => console.log(`  ${line}`),
  });
  console.log(formatSoak(result));
  const problems: string[] = [];
  if (result.lost > 0) problems.push(`${result.lost} deliveries lost`);
  if (result.rejected > 0) problems.push(`${result.rejected} messages rejected`);
  if (result.leakedConnectionRecords > 0) problems.push(`${result.leakedConnectionRecords} connection records left`);
  if (result.heapEnd > result.heapStart * 1.5 + 32 * 1024 * 1024) problems.push('heap grew by more than half');
  if (problems.length > 0) {
    console.error(`FAILED: ${problems.join('; ')}`);
    process.exitCode = 1;
  }
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

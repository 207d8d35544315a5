/**
 * `npm run smoke` (scripts/smoke.ts) against the local runtime on free ports, as deployed (auth
 * on): every check passes, with tokens from the runtime's dev endpoint or passed in. And it fails
 * as it should: a wrong URL gives FAIL lines and exit code 1 from the process itself; bad
 * arguments give 2.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../local/runtime.js';
import { CHECKS } from '../../scripts/smoke/checks.js';
import { main } from '../../scripts/smoke.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let runtime: Runtime | undefined;

beforeAll(async () => {
  runtime = await startRuntime({ httpPort: 0, wsPort: 0, ssePort: 0, quiet: true, auth: true });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

const urls = (rt: Runtime) => ['--http', rt.httpUrl, '--ws', rt.wsUrl, '--sse', rt.sseStreamUrl];

async function runMain(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(argv, (line) => lines.push(line));
  return { code, lines };
}

/** The status each check reported, by name. */
function checkStatuses(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = /^(PASS|FAIL|SKIP)\s+(\S+)/.exec(line);
    if (m) out[m[2]!] = m[1]!;
  }
  return out;
}

describe('npm run smoke', () => {
  it('passes every check against the local runtime, with tokens from its dev endpoint', { timeout: 120_000 }, async () => {
    const { code, lines } = await runMain([...urls(runtime!), '--timeout', '15']);
    expect(lines.join('\n')).toContain(`INFO  tokens from ${runtime!.httpUrl}/api/dev/token`);
    expect(checkStatuses(lines)).toEqual(Object.fromEntries(CHECKS.map((c) => [c.name, 'PASS'])));
    expect(lines.at(-1)).toBe(`OK: ${CHECKS.length} passed, 0 failed, 0 skipped`);
    expect(code).toBe(0);
  });

  it('uses the tokens it is given; without an admin token the broadcast check is skipped', { timeout: 120_000 }, async () => {
    const rt = runtime!;
    const { code, lines } = await runMain([...urls(rt), '--token', rt.issueToken!('smoke-given', [])]);
    expect(lines.join('\n')).not.toContain('INFO');
    const expected = Object.fromEntries(CHECKS.map((c) => [c.name, c.name === 'broadcast' ? 'SKIP' : 'PASS']));
    expect(checkStatuses(lines)).toEqual(expected);
    expect(code).toBe(0);
  });

  it('fails with a wrong token: FAIL lines that say why, exit code 1', { timeout: 120_000 }, async () => {
    const { code, lines } = await runMain([...urls(runtime!), '--token', 'not-a-token', '--admin-token', 'not-a-token']);
    const status = checkStatuses(lines);
    expect(status.health).toBe('PASS'); // public
    expect(status['sse-redirect']).toBe('PASS'); // public
    for (const name of ['websocket', 'rest-to-websocket', 'history', 'sse-resume', 'broadcast']) expect(status[name]).toBe('FAIL');
    expect(lines.find((l) => l.startsWith('FAIL  websocket'))).toMatch(/handshake answered HTTP 40[13]/);
    expect(lines.find((l) => l.startsWith('FAIL  history'))).toMatch(/HTTP 40[13]/);
    expect(lines.at(-1)).toMatch(/^FAILED: 2 passed, 5 failed, 0 skipped$/);
    expect(code).toBe(1);
  });

  it('bounds a check that hangs: a stream that never answers fails after the time limit, its socket closed', { timeout: 60_000 }, async () => {
    const rt = runtime!;
    // Accepts connections and never answers. (Sockets that carry no request are left out: after
    // an aborted request Node's fetch opens a spare connection, which it closes when idle.)
    const sockets: Socket[] = [];
    const all: Socket[] = [];
    const silent = createServer((socket) => {
      all.push(socket);
      socket.once('data', () => sockets.push(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const closedAll = () => Promise.all(sockets.map((s) => (s.closed ? undefined : new Promise((r) => s.once('close', r)))));
      const started = Date.now();
      const { code, lines } = await runMain(['--http', rt.httpUrl, '--ws', rt.wsUrl, '--sse', silentUrl, '--timeout', '4']);
      expect(lines.find((l) => l.startsWith('FAIL  sse-resume'))).toMatch(/timed out after 4 s$/);
      expect(checkStatuses(lines)).toMatchObject({ health: 'PASS', websocket: 'PASS', 'sse-resume': 'FAIL', 'sse-redirect': 'FAIL' });
      expect(code).toBe(1);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(sockets.length).toBeGreaterThan(0);
      await closedAll(); // the client hung up: the test would time out otherwise
    } finally {
      for (const socket of all) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('run as a process with a wrong WebSocket URL: the WebSocket checks fail and it exits 1', { timeout: 120_000 }, async () => {
    const rt = runtime!;
    // The HTTP API's address where the WebSocket API's should be: a plausible copy-paste mistake.
    const wrongWs = rt.httpUrl.replace(/^http/, 'ws');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/smoke.ts', '--http', rt.httpUrl, '--ws', wrongWs, '--sse', rt.sseStreamUrl, '--timeout', '10'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const status = checkStatuses(stdout.split('\n'));
    expect(status, stderr).toMatchObject({ health: 'PASS', websocket: 'FAIL', 'rest-to-websocket': 'FAIL', history: 'PASS', broadcast: 'FAIL' });
    expect(stdout).toMatch(/FAIL {2}websocket .*WebSocket ws:\/\/127\.0\.0\.1:\d+: handshake answered HTTP \d+/);
    expect(code).toBe(1);
  });

  it('exits 2 on bad arguments, with the usage', async () => {
    const missing = await runMain(['--http', runtime!.httpUrl]);
    expect(missing.code).toBe(2);
    expect(missing.lines.join('\n')).toMatch(/--ws is required[\s\S]*Usage: npm run smoke/);
    const wrongScheme = await runMain(['--http', runtime!.httpUrl, '--ws', runtime!.httpUrl, '--sse', runtime!.sseStreamUrl]);
    expect(wrongScheme.code).toBe(2);
    expect(wrongScheme.lines[0]).toMatch(/^--ws must be a ws: or wss: URL\n/);
  });
});

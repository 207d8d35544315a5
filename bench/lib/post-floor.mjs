// The floor of one PostToConnection: the same request the SDK sends (POST /{stage}/@connections/{id},
// SigV4-signed with @smithy/signature-v4, the signer the SDK itself uses) on keep-alive sockets, with
// the same number in flight, and nothing else (no middleware stack, no retries, no parsing beyond the
// status). Plain JavaScript on plain `node`, so no loader sits in what is measured. Forked by
// bench/post-cpu.ts; answers over IPC with process.cpuUsage around the measured posts.
import { createHash, createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

/** The Sha256 interface the signer takes (what @smithy/hash-node does, on node:crypto). */
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

const signer = new SignatureV4({
  service: 'execute-api',
  region: 'us-east-1',
  sha256: Sha256,
  credentials: { accessKeyId: 'AKIDBENCHFLOOR', secretAccessKey: 'bench-floor-secret' },
});

async function post(agent, url, id, body) {
  const path = `${url.pathname.replace(/\/$/, '')}/@connections/${encodeURIComponent(id)}`;
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    headers: { host: url.host, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
    body,
  });
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: url.hostname, port: url.port, method: 'POST', path, headers: signed.headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function run({ url, ids, concurrency, payload }) {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const body = Buffer.from(payload);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) await post(agent, target, ids[next++], body);
    }),
  );
  agent.destroy();
}

process.on('message', async (m) => {
  try {
    await run({ ...m, ids: m.ids.slice(0, m.warmup) });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run(m);
    const cpu = process.cpuUsage(cpu0);
    process.send({ n: m.ids.length, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0 });
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) });
  }
});

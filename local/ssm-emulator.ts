/**
 * A small SSM Parameter Store emulator (awsJson1_1, `X-Amz-Target: AmazonSSM.*`): GetParameter and
 * GetParameters, with WithDecryption, over SecureString/String parameters held in memory. The local
 * runtime puts its generated HS256 secret under the parameter name the template gives the functions
 * (AUTH_SECRET_PARAMETER), so they read their key source as deployed, through the real SDK.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closeServer, listenHttp } from './http-api.js';
import type { RuntimeLogger } from './log.js';

export interface SsmParameter {
  name: string;
  value: string;
  type?: 'String' | 'SecureString';
}

export interface SsmEmulator {
  url: string;
  put(parameter: SsmParameter): void;
  stop(): Promise<void>;
}

interface Stored {
  value: string;
  type: 'String' | 'SecureString';
  version: number;
  modified: number;
}

export async function startSsmEmulator(options: { region: string; account: string; logger: RuntimeLogger }): Promise<SsmEmulator> {
  const parameters = new Map<string, Stored>();
  const arn = (name: string) => `arn:aws:ssm:${options.region}:${options.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  const shape = (name: string, p: Stored, decrypt: boolean) => ({
    Name: name,
    Type: p.type,
    // Without WithDecryption a SecureString comes back encrypted (opaque here).
    Value: p.type === 'SecureString' && !decrypt ? Buffer.from(`kms:${name}:${p.version}`).toString('base64') : p.value,
    Version: p.version,
    LastModifiedDate: p.modified / 1000,
    ARN: arn(name),
    DataType: 'text',
  });
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    let input: { Name?: string; Names?: string[]; WithDecryption?: boolean };
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
      return;
    }
    if (target === 'AmazonSSM.GetParameter') {
      const stored = input.Name ? parameters.get(input.Name) : undefined;
      if (!input.Name || !stored) {
        reply(res, 400, { __type: 'ParameterNotFound', message: `Parameter ${input.Name ?? ''} not found.` });
        return;
      }
      reply(res, 200, { Parameter: shape(input.Name, stored, input.WithDecryption === true) });
      return;
    }
    if (target === 'AmazonSSM.GetParameters') {
      const names = input.Names ?? [];
      reply(res, 200, {
        Parameters: names.filter((n) => parameters.has(n)).map((n) => shape(n, parameters.get(n)!, input.WithDecryption === true)),
        InvalidParameters: names.filter((n) => !parameters.has(n)),
      });
      return;
    }
    reply(res, 400, { __type: 'UnknownOperationException', message: `The local SSM emulator does not implement ${target}` });
  };
  const { server, url } = await listenHttp(handle, { host: '127.0.0.1', port: 0 }, options.logger, 'ssm emulator', { __type: 'InternalServerError' });
  return {
    url,
    put({ name, value, type = 'SecureString' }) {
      const previous = parameters.get(name);
      parameters.set(name, { value, type, version: (previous?.version ?? 0) + 1, modified: Date.now() });
    },
    stop: () => closeServer(server),
  };
}

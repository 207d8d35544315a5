/**
 * The local S3 endpoint the functions and browsers use, in front of the embedded emulator (fauxqs),
 * doing what S3 does and the emulator does not:
 *
 * - SDK calls of the functions (SigV4 `Authorization` header) are authorized against the caller's
 *   role like every other service (local/iam-s3.ts), then forwarded;
 * - browser form uploads (POST Object to a presigned POST) get their policy checked
 *   (local/s3-post-policy.ts: signature, expiration, key, Content-Type, content-length-range) and
 *   the signer's role must allow `s3:PutObject` on the key: a presigned request carries its
 *   signer's permissions. The file is then stored (in parts above the emulator's body limit);
 * - presigned GETs must carry a valid signature (local/s3-presigned-get.ts), be unexpired, and
 *   their signer's role must allow `s3:GetObject`;
 * - CORS for the chat page's origins (browsers POST and GET here directly).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { LIMITS } from '../lambdas/shared/limits.js';
import { LOCAL_CREDENTIALS } from './emulators.js';
import { closeServer, listenHttp } from './http-api.js';
import type { IamAuthority } from './iam-gate.js';
import { accessKeyOf, type WireRequest } from './iam-requests.js';
import { bucketAndKey, mapS3Request, objectArn, s3Error } from './iam-s3.js';
import type { RuntimeLogger } from './log.js';
import { checkPostPolicy, parseMultipart } from './s3-post-policy.js';
import { presignedSignatureMatches } from './s3-presigned-get.js';

export interface S3FrontOptions {
  /** The emulator's S3 endpoint. */
  upstream: string;
  region: string;
  host?: string;
  port?: number;
  /** Enforces roles (undefined: IAM is not enforced, policies still are). */
  authority?: IamAuthority;
  /** The secret of an access key (the sandboxes' credentials). */
  secretOf(accessKeyId: string): string | undefined;
  /** Browser origins allowed by CORS (read on each request). */
  corsOrigins: () => readonly string[];
  logger: RuntimeLogger;
}

export interface S3Front {
  url: string;
  stop(): Promise<void>;
}

/** The emulator takes request bodies up to 11 MiB: larger files go up in parts. */
const PART_BYTES = 8 * 1024 * 1024;
/** Largest form body accepted: the largest attachment plus room for the fields. */
const MAX_FORM_BYTES = LIMITS.attachmentAudioMaxBytes + 64 * 1024;

type Answer = { status: number; headers: Record<string, string>; body: string };

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    req.on('end', () => resolve(size <= max ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

export async function startS3Front(options: S3FrontOptions): Promise<S3Front> {
  const upstream = new URL(options.upstream);
  const direct = new S3Client({ endpoint: options.upstream, region: options.region, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });

  const cors = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (!origin || !options.corsOrigins().includes(origin)) return {};
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'ETag, Location', vary: 'Origin' };
  };
  const reply = (req: IncomingMessage, res: ServerResponse, answer: Answer) => {
    res.writeHead(answer.status, { ...answer.headers, ...cors(req), 'content-length': String(Buffer.byteLength(answer.body)) });
    res.end(answer.body);
  };
  const authorize = async (accessKeyId: string, action: string, resource: string): Promise<Answer | undefined> => {
    const authority = options.authority;
    if (!authority) return undefined;
    const fn = authority.principalOf(accessKeyId);
    if (!fn) return s3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    const decision = await authority.authorize(accessKeyId, { action, resource });
    if (decision.allowed) return undefined;
    const message = `User: ${authority.sessionArn(fn)} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`;
    options.logger.error(`AccessDenied: ${message}`);
    return s3Error(403, 'AccessDenied', message);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, path: string, body?: Buffer) => {
    const headers = { ...req.headers, host: upstream.host };
    if (body) headers['content-length'] = String(body.length);
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, ...cors(req) });
      up.pipe(res);
    });
    out.on('error', (error) => {
      if (!res.headersSent) reply(req, res, s3Error(502, 'InternalError', error.message));
      else res.destroy();
    });
    if (body) out.end(body);
    else req.pipe(out);
  };

  const store = async (bucket: string, key: string, contentType: string, file: Buffer): Promise<string> => {
    if (file.length <= PART_BYTES) {
      return (await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: file, ContentType: contentType }))).ETag ?? '';
    }
    const { UploadId } = await direct.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
    const parts: Array<{ ETag: string; PartNumber: number }> = [];
    for (let offset = 0, n = 1; offset < file.length; offset += PART_BYTES, n++) {
      const out = await direct.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: file.subarray(offset, offset + PART_BYTES) }),
      );
      parts.push({ ETag: out.ETag ?? '', PartNumber: n });
    }
    return (await direct.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }))).ETag ?? '';
  };

  /** POST Object: a browser form upload to a presigned POST. */
  const postObject = async (req: IncomingMessage, res: ServerResponse, bucket: string) => {
    const body = await readBody(req, MAX_FORM_BYTES);
    if (!body) {
      reply(req, res, s3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'));
      return;
    }
    const form = parseMultipart(body, String(req.headers['content-type'] ?? ''));
    if (!form) {
      reply(req, res, s3Error(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.'));
      return;
    }
    const verdict = checkPostPolicy(form, bucket, options.secretOf, Date.now());
    if (!verdict.ok) {
      reply(req, res, s3Error(verdict.status, verdict.code, verdict.message, verdict.extra));
      return;
    }
    const denied = await authorize(verdict.accessKeyId, 's3:PutObject', objectArn(bucket, verdict.key));
    if (denied) {
      reply(req, res, denied);
      return;
    }
    const etag = await store(bucket, verdict.key, verdict.contentType, form.file);
    const status = Number(form.fields.success_action_status);
    reply(req, res, {
      status: [200, 201].includes(status) ? status : 204,
      headers: { etag, location: `${upstreamPublic}/${bucket}/${verdict.key.split('/').map(encodeURIComponent).join('/')}` },
      body: '',
    });
  };

  /** A presigned GET/HEAD: unexpired, and its signer may read the object. */
  const presigned = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const target = bucketAndKey(url.pathname);
    const credential = url.searchParams.get('X-Amz-Credential') ?? '';
    const date = url.searchParams.get('X-Amz-Date') ?? '';
    const expires = Number(url.searchParams.get('X-Amz-Expires'));
    const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!target || !match || !Number.isFinite(expires)) {
      reply(req, res, s3Error(400, 'AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Credential, X-Amz-Date and X-Amz-Expires parameters.'));
      return;
    }
    const signedAt = Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!);
    if (Date.now() > signedAt + expires * 1000) {
      reply(req, res, s3Error(403, 'AccessDenied', 'Request has expired', { 'X-Amz-Expires': expires }));
      return;
    }
    const accessKeyId = credential.split('/')[0] ?? '';
    const secret = options.secretOf(accessKeyId);
    if (secret === undefined) {
      reply(req, res, s3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'));
      return;
    }
    if (!(await presignedSignatureMatches(req.method ?? 'GET', String(req.headers.host ?? ''), url, secret))) {
      reply(req, res, s3Error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'));
      return;
    }
    const denied = await authorize(accessKeyId, 's3:GetObject', objectArn(target.bucket, target.key));
    if (denied) {
      reply(req, res, denied);
      return;
    }
    forward(req, res, url.pathname);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method === 'OPTIONS') {
      const allowed = cors(req);
      res.writeHead(allowed['access-control-allow-origin'] ? 200 : 403, {
        ...allowed,
        'access-control-allow-methods': 'GET, HEAD, POST',
        'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '*'),
        'access-control-max-age': '3600',
        'content-length': '0',
      });
      res.end();
      return;
    }
    const bucketOnly = /^\/([^/]+)\/?$/.exec(url.pathname);
    if (req.method === 'POST' && bucketOnly && /multipart\/form-data/i.test(String(req.headers['content-type'] ?? ''))) {
      await postObject(req, res, decodeURIComponent(bucketOnly[1]!));
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && url.searchParams.has('X-Amz-Signature')) {
      await presigned(req, res, url);
      return;
    }
    // An SDK call of a function: the caller's role decides.
    if (options.authority) {
      const body = await readBody(req, MAX_FORM_BYTES);
      const wire: WireRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: body ?? Buffer.alloc(0) };
      const accessKeyId = accessKeyOf(wire);
      const mapped = mapS3Request(wire);
      if (!accessKeyId || !mapped) {
        reply(req, res, s3Error(403, 'AccessDenied', `The local S3 endpoint cannot authorize ${wire.method} ${url.pathname}`));
        return;
      }
      for (const required of mapped.required) {
        const denied = await authorize(accessKeyId, required.action, required.resource);
        if (denied) {
          reply(req, res, denied);
          return;
        }
      }
      forward(req, res, req.url ?? '/', body ?? Buffer.alloc(0));
      return;
    }
    forward(req, res, req.url ?? '/');
  };

  let upstreamPublic = '';
  const { server, url } = await listenHttp(
    (req, res) =>
      handle(req, res).catch((error: Error) => {
        options.logger.error('S3 front failed', error);
        if (!res.headersSent) reply(req, res, s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'));
      }),
    { host: options.host ?? '127.0.0.1', port: options.port ?? 0 },
    options.logger,
    'S3',
    { message: 'Internal error' },
  );
  upstreamPublic = url.replace(/\/$/, '');
  return {
    url: upstreamPublic,
    async stop() {
      direct.destroy();
      await closeServer(server);
    },
  };
}

/** Creates the bucket on the emulator (idempotent). */
export async function ensureBucket(endpoint: string, region: string, bucket: string): Promise<void> {
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint, region, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  } finally {
    client.destroy();
  }
}

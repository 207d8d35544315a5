/**
 * Checks the signature of a presigned GET/HEAD (query-string SigV4) as S3 does: the same request
 * signed again with the signer's secret, at the time and for the duration it names, must give the
 * same signature; a URL whose key or parameters were changed fails with `SignatureDoesNotMatch`.
 * The re-signing is the SDK's own signer (@smithy/signature-v4), with S3's options (no double
 * escaping of the path, unsigned payload).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, SourceData } from '@smithy/types';

class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined || typeof secret === 'string' ? secret : secret instanceof ArrayBuffer ? new Uint8Array(secret) : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** Query parameters the signer sets itself. */
const PRESIGN_PARAMS = [
  'X-Amz-Signature',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
];

/** Whether the presigned URL's signature is the one its credential's secret gives. */
export async function presignedSignatureMatches(method: string, host: string, url: URL, secret: string): Promise<boolean> {
  const params = url.searchParams;
  const [accessKeyId, , region, service] = (params.get('X-Amz-Credential') ?? '').split('/');
  const date = params.get('X-Amz-Date') ?? '';
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!accessKeyId || !region || !service || !match) return false;
  const signingDate = new Date(Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!));
  const sessionToken = params.get('X-Amz-Security-Token') ?? undefined;
  const query: Record<string, string> = {};
  for (const [key, value] of params) {
    if (!PRESIGN_PARAMS.includes(key)) query[key] = value;
  }
  const [hostname, port] = host.split(':');
  const request: HttpRequest = {
    method,
    protocol: 'http:',
    hostname: hostname!,
    ...(port ? { port: Number(port) } : {}),
    path: url.pathname,
    query,
    // The payload hash travels as a hoisted header: put back as a header, the signer hoists it again.
    headers: { host, 'X-Amz-Content-Sha256': params.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD' },
  };
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret, ...(sessionToken ? { sessionToken } : {}) },
    region,
    service,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.presign(request, {
    signingDate,
    expiresIn: Number(params.get('X-Amz-Expires')),
  });
  return signed.query?.['X-Amz-Signature'] === params.get('X-Amz-Signature');
}

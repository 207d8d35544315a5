/**
 * S3 POST Object policy checks, which the embedded emulator skips: the signature of the policy
 * (SigV4 over the base64 policy), its expiration, and every condition (exact matches, `starts-with`,
 * `content-length-range`), with S3's answers: `403 AccessDenied` "Invalid according to Policy",
 * `400 EntityTooLarge` / `EntityTooSmall`. Reference: "Creating a POST policy",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface PostForm {
  fields: Record<string, string>;
  file: Buffer;
}

export type PolicyVerdict =
  | { ok: true; accessKeyId: string; key: string; contentType: string }
  | { ok: false; status: number; code: string; message: string; extra?: Record<string, string | number> };

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4 signature of a POST policy with the credential's scope. */
export function policySignature(secret: string, scope: { date: string; region: string; service: string }, policyBase64: string): string {
  const kDate = hmac(`AWS4${secret}`, scope.date);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  const kSigning = hmac(kService, 'aws4_request');
  return createHmac('sha256', kSigning).update(policyBase64).digest('hex');
}

const deny = (message: string): PolicyVerdict => ({ ok: false, status: 403, code: 'AccessDenied', message: `Invalid according to Policy: ${message}` });

/** Fields that never need a condition. */
const EXEMPT = new Set(['policy', 'x-amz-signature', 'file']);

export function checkPostPolicy(form: PostForm, bucket: string, secretOf: (accessKeyId: string) => string | undefined, now: number): PolicyVerdict {
  const fields = Object.fromEntries(Object.entries(form.fields).map(([k, v]) => [k.toLowerCase(), v]));
  const policyB64 = fields.policy;
  const credential = fields['x-amz-credential'];
  const signature = fields['x-amz-signature'];
  if (!policyB64 || !credential || !signature) return { ok: false, status: 403, code: 'AccessDenied', message: 'Bucket POST must contain a policy, a credential and a signature' };
  const [accessKeyId, date, region, service] = credential.split('/');
  const secret = accessKeyId ? secretOf(accessKeyId) : undefined;
  if (!accessKeyId || !date || !region || !service || secret === undefined) {
    return { ok: false, status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  }
  const expected = Buffer.from(policySignature(secret, { date, region, service }, policyB64));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  let policy: { expiration?: string; conditions?: unknown[] };
  try {
    policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8'));
  } catch {
    return { ok: false, status: 400, code: 'InvalidPolicyDocument', message: 'Invalid Policy: Invalid JSON.' };
  }
  if (!policy.expiration || !(Date.parse(policy.expiration) > now)) return deny('Policy expired.');
  const values: Record<string, string> = { ...fields, bucket };
  const covered = new Set<string>(['bucket']);
  for (const condition of policy.conditions ?? []) {
    if (Array.isArray(condition)) {
      const [op, rawField, value] = condition as [string, string | number, string | number];
      if (op === 'content-length-range') {
        const min = Number(rawField);
        const max = Number(value);
        if (form.file.length > max) {
          return { ok: false, status: 400, code: 'EntityTooLarge', message: 'Your proposed upload exceeds the maximum allowed size', extra: { ProposedSize: form.file.length, MaxSizeAllowed: max } };
        }
        if (form.file.length < min) {
          return { ok: false, status: 400, code: 'EntityTooSmall', message: 'Your proposed upload is smaller than the minimum allowed size', extra: { ProposedSize: form.file.length, MinSizeAllowed: min } };
        }
        continue;
      }
      const field = String(rawField).replace(/^\$/, '').toLowerCase();
      covered.add(field);
      const actual = values[field] ?? '';
      if (op === 'eq' && actual !== String(value)) return deny(`Policy Condition failed: ["eq", "$${field}", "${value}"]`);
      if (op === 'starts-with' && !actual.startsWith(String(value))) return deny(`Policy Condition failed: ["starts-with", "$${field}", "${value}"]`);
      if (op !== 'eq' && op !== 'starts-with') return deny(`Unknown condition ${op}`);
    } else if (condition && typeof condition === 'object') {
      for (const [rawField, value] of Object.entries(condition as Record<string, string>)) {
        const field = rawField.toLowerCase();
        covered.add(field);
        if ((values[field] ?? '') !== String(value)) return deny(`Policy Condition failed: ["eq", "$${field}", "${value}"]`);
      }
    }
  }
  for (const field of Object.keys(fields)) {
    if (!EXEMPT.has(field) && !field.startsWith('x-ignore-') && !covered.has(field)) {
      return deny(`Extra input fields: ${field}`);
    }
  }
  return { ok: true, accessKeyId, key: form.fields.key ?? fields.key ?? '', contentType: fields['content-type'] ?? 'binary/octet-stream' };
}

/** A multipart/form-data body: its fields, and the `file` field's bytes (S3 ignores fields after it). */
export function parseMultipart(body: Buffer, contentType: string): PostForm | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const fields: Record<string, string> = {};
  let position = body.indexOf(delimiter);
  if (position < 0) return undefined;
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString() === '--') break;
    position += 2; // CRLF
    const headerEnd = body.indexOf('\r\n\r\n', position);
    if (headerEnd < 0) return undefined;
    const headers = body.subarray(position, headerEnd).toString('utf8');
    const next = body.indexOf(delimiter, headerEnd + 4);
    if (next < 0) return undefined;
    const content = body.subarray(headerEnd + 4, next - 2); // without the CRLF before the delimiter
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    if (name === 'file') return { fields, file: Buffer.from(content) };
    if (name !== undefined) fields[name] = content.toString('utf8');
    position = next;
  }
  return { fields, file: Buffer.alloc(0) };
}

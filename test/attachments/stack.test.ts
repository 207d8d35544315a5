/**
 * The attachments bucket as synthesized: private, encrypted, TLS only, CORS for the configured
 * origins, a lifecycle by prefix, and object grants limited to the prefixes each function declares.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/config.js';
import { LIMITS } from '../../lambdas/shared/limits.js';
import { createChatApp } from '../../lib/app.js';
import type { ChatStack } from '../../lib/chat-stack.js';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation JSON is untyped.
type Json = Record<string, any>;

const ORIGIN = 'https://chat.example.com';
let outdir: string;
let stack: ChatStack;
let template: Template;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'chat-media-'));
  ({ stack } = createChatApp({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], stage: 'qa', corsOrigins: ORIGIN, messageRetentionDays: 30, authSecretParameterName: '/chat/qa/jwt-secret' },
  }));
  template = Template.fromStack(stack);
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const bucketId = () => Stack.of(stack).getLogicalId(stack.media.bucket.node.defaultChild as never);

describe('media bucket', () => {
  it('is private, encrypted, with CORS for the allowed origins and a lifecycle per prefix', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedOrigins: [ORIGIN], AllowedMethods: Match.arrayWith(['POST', 'GET']) })] },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'uploads/', ExpirationInDays: LIMITS.unreferencedUploadDays, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'media/', ExpirationInDays: 31, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('denies every request without TLS', () => {
    const policy = template.findResources('AWS::S3::BucketPolicy');
    const statements = Object.values(policy).flatMap((p: Json) => p.Properties.PolicyDocument.Statement as Json[]);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
    );
  });

  it('grants object actions per prefix only, to the functions that declare them, and gives them the bucket name', () => {
    const id = bucketId();
    const s3Statements = (fn: keyof ChatStack['functions']) => {
      const roleId = Stack.of(stack).getLogicalId(stack.functions[fn].role.node.defaultChild as never);
      return Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p: Json) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
        .flatMap((p: Json) => p.Properties.PolicyDocument.Statement as Json[])
        .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    };
    const prefixOf = (s: Json) => JSON.stringify(s.Resource).match(/\/(uploads|media)\/\*/)?.[1];
    const summary = (fn: keyof ChatStack['functions']) =>
      s3Statements(fn)
        .map((s) => `${[s.Action].flat().sort().join(',')} on ${prefixOf(s)}`)
        .sort();
    for (const s of [...s3Statements('http'), ...s3Statements('sse'), ...s3Statements('tasks')]) expect(JSON.stringify(s.Resource)).toContain(id);
    expect(summary('http')).toEqual(['s3:DeleteObject,s3:GetObject,s3:PutObject on uploads', 's3:GetObject,s3:PutObject on media']);
    expect(summary('wsMessage')).toEqual(['s3:DeleteObject,s3:GetObject on uploads', 's3:GetObject,s3:PutObject on media']);
    expect(summary('sse')).toEqual(['s3:GetObject on media']);
    // Previews: the tasks function reads checked media only.
    expect(summary('tasks')).toEqual(['s3:GetObject on media']);
    for (const fn of ['http', 'wsMessage', 'sse', 'tasks'] as const) {
      expect(template.toJSON().Resources[Stack.of(stack).getLogicalId(stack.functions[fn].fn.node.defaultChild as never)].Properties.Environment.Variables[ENV.mediaBucket]).toEqual({ Ref: id });
    }
  });
});

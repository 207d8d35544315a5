/**
 * The LocalStack path (`npm run deploy:localstack`) runs the CDK CLI through cdklocal. Deploying
 * needs a running LocalStack (Docker), which CI does not have; what can be checked here is that
 * cdklocal synthesizes the very stack, offline, pointed at a LocalStack endpoint.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTP_ROUTES } from '../../lambdas/shared/routes.js';

describe('cdklocal', () => {
  it('synthesizes the stack offline for LocalStack', () => {
    const out = mkdtempSync(join(tmpdir(), 'cdklocal-'));
    try {
      const result = spawnSync('npx', ['cdklocal', 'synth', '-q', '-o', out], {
        cwd: new URL('../../', import.meta.url).pathname,
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: 'http://localhost:4566',
          AWS_ENDPOINT_URL_S3: 'http://s3.localhost.localstack.cloud:4566',
          AWS_REGION: 'us-east-1',
          CI: 'true',
        },
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(result.status, `${result.stdout}\n${result.stderr}`.slice(-2000)).toBe(0);
      const templateFile = readdirSync(out).find((f) => f.endsWith('.template.json'));
      expect(templateFile).toBeDefined();
      const template = JSON.parse(readFileSync(join(out, templateFile!), 'utf8')) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
      const types = Object.values(template.Resources).map((r) => r.Type);
      expect(types).toContain('AWS::ApiGatewayV2::Api');
      expect(types).toContain('AWS::Lambda::Url');
      const routes = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route').map((r) => r.Properties?.RouteKey);
      for (const route of HTTP_ROUTES) expect(routes).toContain(`${route.method} ${route.path}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});

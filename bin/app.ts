#!/usr/bin/env node
/**
 * CDK app entry (cdk.json: `npx tsx bin/app.ts`). Context keys (cdk.json or `-c key=value`):
 * stage, production, corsOrigins, messageRetentionDays, logRetentionDays, destroyData,
 * throttleRateLimit, throttleBurstLimit, alarmEmail, manageApiGatewayAccountRole, stackName, and
 * the token key source (exactly one, lib/auth.ts):
 * - authSecretParameterName: an SSM SecureString holding an HS256 secret. cdk.json defaults it to
 *   `/chat/dev/jwt-secret` so `cdk synth` works out of the box; create the parameter before
 *   deploying, e.g. `aws ssm put-parameter --type SecureString --name /chat/dev/jwt-secret
 *   --value "$(openssl rand -base64 48)"`;
 * - or authJwksUrl + authIssuer (+ authAudience) for Cognito/OIDC tokens; clear the default with
 *   `-c authSecretParameterName=`, e.g. `cdk deploy -c authSecretParameterName=
 *   -c authJwksUrl=https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json
 *   -c authIssuer=https://cognito-idp.<region>.amazonaws.com/<pool>`.
 * `production: true` (always for stages prod/production) forbids a `*` CORS origin.
 */
import { createChatApp } from '../lib/app.js';

createChatApp();

#!/usr/bin/env node
/**
 * CDK app entry (cdk.json: `npx tsx bin/app.ts`). Context keys (cdk.json or `-c key=value`):
 * stage, production, corsOrigins, messageRetentionDays, logRetentionDays, destroyData,
 * throttleRateLimit, throttleBurstLimit, alarmEmail, manageApiGatewayAccountRole (default false),
 * stackName, and the token key source (exactly one, lib/auth.ts):
 * - cognito=true: a Cognito user pool and app client in the stack (outputs UserPoolId,
 *   UserPoolClientId); members of its group `admin` get the admin role;
 * - authCognitoUserPoolId + authCognitoClientId: an existing user pool;
 * - authJwksUrl + authIssuer (+ authAudience): another OIDC issuer;
 * - authSecretParameterName: an SSM SecureString holding an HS256 secret; the default when none of
 *   the above is set, `/chat/<stage>/jwt-secret`. Create it before deploying, e.g.
 *   `aws ssm put-parameter --type SecureString --name /chat/dev/jwt-secret
 *   --value "$(openssl rand -base64 48)"`.
 * `production: true` (always for stages prod/production) forbids a `*` CORS origin.
 */
import { createChatApp } from '../lib/app.js';

createChatApp();

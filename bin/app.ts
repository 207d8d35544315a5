#!/usr/bin/env node
/**
 * CDK app entry (cdk.json: `npx tsx bin/app.ts`). Context keys (cdk.json or `-c key=value`):
 * stage, corsOrigins, messageRetentionDays, logRetentionDays, destroyData, throttleRateLimit,
 * throttleBurstLimit, alarmEmail, manageApiGatewayAccountRole, stackName.
 */
import { createChatApp } from '../lib/app.js';

createChatApp();

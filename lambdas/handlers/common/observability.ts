/** One structured JSON logger for every handler (Powertools), with request and connection ids. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'chat-service', logLevel: (process.env.LOG_LEVEL as 'INFO') ?? 'INFO' });

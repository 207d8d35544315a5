/**
 * Structured JSON logs (Powertools logger, with request and connection ids appended per
 * invocation) and CloudWatch metrics in embedded metric format (Powertools metrics).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const SERVICE = 'chat-service';

export const logger = new Logger({ serviceName: SERVICE, logLevel: (process.env.LOG_LEVEL as 'INFO') ?? 'INFO' });

const metrics = new Metrics({ namespace: 'ChatService', serviceName: SERVICE });

export type CountMetric = 'MessagesSent' | 'MessagesDelivered' | 'StaleConnectionsRemoved' | 'DeliveryFailures' | 'RateLimited';

/**
 * Emits counters at once (one EMF line): handlers call it only when they have something to count,
 * so no empty-metrics warning is ever printed. POWERTOOLS_METRICS_DISABLED turns it off (tests,
 * local runs).
 */
export function countMetrics(values: Partial<Record<CountMetric, number>>): void {
  let added = false;
  for (const [name, value] of Object.entries(values)) {
    if (value && value > 0) {
      metrics.addMetric(name, MetricUnit.Count, value);
      added = true;
    }
  }
  if (added) metrics.publishStoredMetrics();
}

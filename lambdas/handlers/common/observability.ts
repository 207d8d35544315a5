/**
 * Structured JSON logs (Powertools logger: request and connection ids appended per invocation,
 * Lambda context keys injected by middleware) and CloudWatch metrics in embedded metric format
 * (Powertools metrics), written once per invocation and only when something was counted.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext as injectPowertoolsContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const SERVICE = 'chat-service';
const NAMESPACE = 'ChatService';

export const logger = new Logger({
  serviceName: SERVICE,
  logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
});

// Built on the first count: a function that never counts does not construct it, and its bundle
// leaves the library out (the authorizer, the SSE stream, $connect, $disconnect).
let metrics: Metrics | undefined;
let pending = 0;

export type CountMetric = 'MessagesSent' | 'MessagesDelivered' | 'StaleConnectionsRemoved' | 'DeliveryFailures' | 'RateLimited';

/**
 * Adds to the invocation's counters. They are published once per invocation, as one EMF line, by
 * the `injectLambdaContext` middleware when the invocation ends (every counting handler has it),
 * and never as an empty line. POWERTOOLS_METRICS_DISABLED=true turns metrics off (tests, local runs).
 */
export function countMetrics(values: Partial<Record<CountMetric, number>>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value && value > 0) {
      metrics ??= new Metrics({ namespace: NAMESPACE, serviceName: SERVICE });
      metrics.addMetric(name, MetricUnit.Count, value);
      pending++;
    }
  }
}

/** Every fan-out, inline (message path) or from a task, is counted the same way. */
export function countFanoutStats(stats: { delivered: number; gone: number; failed: number; dropped: number }): void {
  countMetrics({ MessagesDelivered: stats.delivered, StaleConnectionsRemoved: stats.gone, DeliveryFailures: stats.failed + stats.dropped });
}

/** Publishes the pending counters (one EMF line) and clears them. */
export function flushMetrics(): void {
  if (pending === 0) return;
  pending = 0;
  metrics?.publishStoredMetrics();
}

/** Middy middleware: Powertools' Lambda context keys on every log line, metrics flushed at the end. */
export function injectLambdaContext(target: Logger) {
  const inner = injectPowertoolsContext(target);
  return {
    before: inner.before,
    after: async (request: Parameters<NonNullable<typeof inner.after>>[0]) => {
      await inner.after?.(request);
      flushMetrics();
    },
    onError: async (request: Parameters<NonNullable<typeof inner.onError>>[0]) => {
      await inner.onError?.(request);
      flushMetrics();
    },
  };
}

/**
 * Import first in every handler test file (before any handler module is evaluated).
 *
 * The handlers' Powertools logger reads LOG_LEVEL once, when its module loads; `setLogLevel` would
 * not stick, as injectLambdaContext restores the initial level on every warm invocation. Tests run
 * silent unless TEST_LOG_LEVEL (e.g. DEBUG) is set, and emit no metrics.
 */
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'SILENT';
// No embedded-metric-format lines on stdout (Powertools metrics read this when they are created).
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

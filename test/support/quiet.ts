/**
 * Import first in test files that load handler code in this process (domain modules, codecs).
 *
 * The functions themselves run in sandboxes whose output the test environment discards (set
 * TEST_LOG_LEVEL, e.g. DEBUG, to see it); this keeps any Powertools logger or metrics loaded here
 * silent too: the logger reads LOG_LEVEL once, when its module loads, and metrics read
 * POWERTOOLS_METRICS_DISABLED when they are created.
 */
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

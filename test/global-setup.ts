/**
 * Once per test run: synthesizes the template and builds the function bundles (or finds them in
 * the disk cache) before any test file starts, so the workers only read them, and collects the IAM decisions
 * every worker's runtime recorded into one report of the grants no test used.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { functionBundles } from '../local/bundles.js';
import { formatIamReport, iamReport } from '../local/iam-report.js';
import { loadFunctionTemplate } from '../local/template.js';

let logDir: string | undefined;

export async function setup(): Promise<void> {
  // Both cached on disk by content hash: the workers find them there.
  await Promise.all([loadFunctionTemplate(), functionBundles()]);
  logDir = mkdtempSync(path.join(tmpdir(), 'chat-iam-'));
  // Inherited by the test workers (forks), whose runtimes append their decisions there.
  process.env.CHAT_IAM_LOG_DIR = logDir;
}

export async function teardown(): Promise<void> {
  if (!logDir) return;
  try {
    const report = iamReport(logDir);
    if (Object.keys(report.unused).length > 0) process.stdout.write(`\n${formatIamReport(report)}\n`);
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

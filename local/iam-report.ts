/**
 * Least privilege shown both ways: from the IAM decisions the gates recorded (JSONL lines written by
 * iamRecorder), the grants of each function's role that no call used, and the calls that were
 * denied. Statements on the function's own log group are left out: the Lambda service writes the
 * logs with them, never the function code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PolicyStatement } from './function-table.js';

interface GrantsLine {
  type: 'grants';
  fn: string;
  policies: Array<{ name: string; statements: PolicyStatement[] }>;
}

interface DecisionLine {
  type: 'decision';
  fn: string;
  action: string;
  resource: string;
  allowed: boolean;
  statement?: string;
}

export interface IamReport {
  unused: Record<string, string[]>;
  denied: Record<string, string[]>;
  used: Record<string, string[]>;
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

export function iamReport(logDir: string): IamReport {
  const grants = new Map<string, GrantsLine>();
  const decisions: DecisionLine[] = [];
  for (const file of readdirSync(logDir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(logDir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as GrantsLine | DecisionLine;
      if (entry.type === 'grants') grants.set(entry.fn, entry);
      else decisions.push(entry);
    }
  }
  const report: IamReport = { unused: {}, denied: {}, used: {} };
  const usedKeys = new Set(decisions.filter((d) => d.allowed).map((d) => `${d.fn}|${d.statement}|${d.action}`));
  for (const { fn, policies } of [...grants.values()].sort((a, b) => a.fn.localeCompare(b.fn))) {
    const unused: string[] = [];
    const used: string[] = [];
    for (const policy of policies) {
      policy.statements.forEach((statement, index) => {
        if (statement.Effect !== 'Allow') return;
        const actions = list(statement.Action);
        if (actions.every((a) => a.startsWith('logs:'))) return;
        for (const action of actions) {
          const line = `${action} on ${list(statement.Resource).join(', ')}`;
          (usedKeys.has(`${fn}|${policy.name}#${index + 1}|${action}`) ? used : unused).push(line);
        }
      });
    }
    report.unused[fn] = unused;
    report.used[fn] = used;
  }
  for (const d of decisions.filter((x) => !x.allowed)) {
    report.denied[d.fn] ??= [];
    report.denied[d.fn]!.push(`${d.action} on ${d.resource}`);
  }
  return report;
}

export function formatIamReport(report: IamReport): string {
  const lines = ['IAM: grants no test used (per function; least privilege, the other way round):'];
  for (const [fn, unused] of Object.entries(report.unused)) {
    lines.push(`  ${fn}: ${unused.length === 0 ? 'every grant used' : `${unused.length} unused`}`);
    for (const grant of unused) lines.push(`    - ${grant}`);
  }
  const denied = Object.entries(report.denied);
  lines.push(denied.length === 0 ? 'IAM: no call was denied.' : 'IAM: calls denied (the role lacks the grant):');
  for (const [fn, calls] of denied) for (const call of [...new Set(calls)]) lines.push(`  ${fn}: ${call}`);
  return lines.join('\n');
}

/** The runtime's own log lines (access logs, emulator errors), separate from the handlers' JSON logs. */
export interface RuntimeLogger {
  info(line: string): void;
  error(line: string, error?: unknown): void;
}

export const silentLogger: RuntimeLogger = { info() {}, error() {} };

export function consoleLogger(options: { verbose: boolean }): RuntimeLogger {
  return {
    info(line) {
      if (options.verbose) process.stderr.write(`[local] ${line}\n`);
    },
    error(line, error) {
      const detail = error instanceof Error ? `: ${error.stack ?? error.message}` : error !== undefined ? `: ${String(error)}` : '';
      process.stderr.write(`[local] ${line}${detail}\n`);
    },
  };
}

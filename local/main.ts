/**
 * `npm start`: the whole service on this machine (see local/README.md).
 *
 *   npm start -- --http-port 3000 --ws-port 3001 --sse-port 3002 --data-dir .local-data
 *
 * Ready when it prints its URLs; Ctrl-C (SIGINT) or SIGTERM stops it cleanly.
 */
import { HELP, optionsFromArgs } from './cli.js';
import { type RuntimeOptions, startRuntime } from './runtime.js';

async function main(): Promise<void> {
  let options: RuntimeOptions | 'help';
  try {
    options = optionsFromArgs(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const runtime = await startRuntime(options);
  const dataPlane = options.awsEndpoint
    ? `DynamoDB + SQS at ${options.awsEndpoint === 'aws' ? `AWS (${runtime.region})` : options.awsEndpoint}`
    : `embedded DynamoDB ${runtime.dynamoEndpoint} (${options.dataDir ? `data in ${options.dataDir}` : 'in memory'}), SQS ${runtime.sqsEndpoint}`;
  process.stdout.write(
    [
      '',
      'Chat service running locally:',
      `  Chat page + HTTP API  ${runtime.httpUrl}/   (REST: ${runtime.httpUrl}/api/health)`,
      `  WebSocket API         ${runtime.wsUrl}`,
      `  @connections API      ${runtime.managementUrl}/@connections/{connectionId}`,
      `  SSE Function URL      ${runtime.sseStreamUrl}`,
      ...(runtime.s3Url ? [`  S3 (attachments)      ${runtime.s3Url}`] : []),
      `  Data                  ${dataPlane}`,
      `  Task queue            ${runtime.taskQueueUrl} (DLQ ${runtime.taskDlqUrl})`,
      options.auth
        ? `  Auth                  on: get a token with curl -X POST ${runtime.httpUrl}/api/dev/token -d '{"sub":"alice","roles":["admin"]}'`
        : '  Auth                  off (--no-auth): every caller is an admin, `sender` is taken as sent',
      ...runtime.resources.warnings.map((w) => `  Warning: ${w}`),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  // Ctrl-C reaches this process twice under `npm start`: from the terminal (the whole process
  // group) and relayed by tsx. A repeat within a moment is that echo; a later one forces the exit.
  let stoppingSince: number | undefined;
  const shutdown = (signal: string) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < 1500) return;
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    process.stdout.write(`\n${signal}: stopping...\n`);
    runtime.stop().then(
      () => {
        process.stdout.write('Stopped.\n');
        process.exit(0);
      },
      (error) => {
        process.stderr.write(`Stop failed: ${(error as Error).stack}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  process.stderr.write(`Could not start the local runtime: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});

/** Flags and environment variables of `npm start`. */
import { describe, expect, it } from 'vitest';
import { optionsFromArgs, parseDuration } from '../../local/cli.js';

describe('npm start options', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(() => parseDuration('soon')).toThrow(/Invalid duration/);
  });

  it('reads flags, with environment variables as fallback', () => {
    const options = optionsFromArgs(
      ['--http-port', '0', '--ws-port', '4001', '--idle-timeout', '1m', '--cors-origins', 'http://a, http://b', '--verbose'],
      { CHAT_SSE_PORT: '4002', CHAT_DATA_DIR: '.local-data', CHAT_WS_PORT: '9999', AWS_REGION: 'eu-west-1' },
    );
    expect(options).toMatchObject({
      httpPort: 0,
      wsPort: 4001,
      ssePort: 4002,
      dataDir: '.local-data',
      idleTimeoutMs: 60_000,
      corsOrigins: ['http://a', 'http://b'],
      region: 'eu-west-1',
      verbose: true,
    });
  });

  it('takes AWS_ENDPOINT_URL as the data plane endpoint (LocalStack)', () => {
    expect(optionsFromArgs([], { AWS_ENDPOINT_URL: 'http://localhost:4566' })).toMatchObject({ awsEndpoint: 'http://localhost:4566' });
    expect(optionsFromArgs(['--aws-endpoint', 'aws'], {})).toMatchObject({ awsEndpoint: 'aws' });
    expect(() => optionsFromArgs(['--aws-endpoint', 'aws', '--data-dir', 'x'], {})).toThrow(/--data-dir/);
  });

  it('rejects bad values and unknown flags', () => {
    expect(() => optionsFromArgs(['--http-port', 'abc'], {})).toThrow(/HTTP port/);
    expect(() => optionsFromArgs(['--nope'], {})).toThrow();
    expect(optionsFromArgs(['--help'], {})).toBe('help');
  });
});

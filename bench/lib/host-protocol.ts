/** Messages between the bench and its Lambda host processes (bench/lib/host.ts). */

/** One AWS SDK request made by a handler. */
export interface AwsCall {
  service: string;
  operation: string;
  status?: number;
  error?: string;
  /** DynamoDB consumed capacity units (ReturnConsumedCapacity TOTAL). */
  capacity?: number;
  /** Payload bytes: SQS message bodies and attributes, @connections data. */
  bytes: number;
}

export type HostRequest =
  | { type: 'load'; modules: Record<string, string>; count?: boolean; memory?: Record<string, number> }
  | { type: 'invoke'; id: number; fn: string; event: unknown; timeoutMs?: number }
  | { type: 'repeat'; id: number; fn: string; events: unknown[]; warmup: number }
  | { type: 'exit' };

export type HostResponse =
  | { type: 'loaded'; error?: string }
  | { type: 'result'; id: number; result?: unknown; error?: string; wallMs: number; cpuMs: number; logBytes: number; calls: AwsCall[] }
  | { type: 'repeated'; id: number; n: number; wallMs: number; cpuMs: number; failures: number };

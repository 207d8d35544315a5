/**
 * Stand-ins for AWS SDK clients a function has no IAM permission to use (lib/access.ts). The
 * shared container builds every client, so every handler's bundle carried all of them; the
 * bundler (lib/bundling.ts) swaps the ones IAM would refuse for these classes. They can be
 * constructed and given middleware like the real clients, and `send` fails the way IAM would:
 * AccessDeniedException, HTTP 403, naming the missing ACCESS entry.
 */
export class AccessDeniedError extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 403, attempts: 0, totalRetryDelay: 0 };
}

export class DeniedCommand<Input = unknown> {
  constructor(readonly input: Input) {}
}

/** A client whose every call is denied; `permission` names the ACCESS flag that would allow it. */
export function deniedClient(service: string, permission: string) {
  return class DeniedClient {
    readonly config: unknown;
    readonly middlewareStack = {
      use(_plugin: unknown): void {},
      add(_middleware: unknown, _options?: unknown): void {},
      addRelativeTo(_middleware: unknown, _options?: unknown): void {},
    };

    constructor(config: unknown = {}) {
      this.config = config;
    }

    async send(_command: unknown): Promise<never> {
      throw new AccessDeniedError(
        `${service}: this function is not allowed to call ${service} (no '${permission}' in its ACCESS entry, lib/access.ts), so the client is not bundled`,
      );
    }

    destroy(): void {}
  };
}

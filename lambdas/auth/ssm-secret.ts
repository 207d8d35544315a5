/**
 * Reads the HS256 secret (a SecureString) from SSM. A module of its own, imported on use by the
 * authenticator: named imports let esbuild keep only the client and GetParameter, where a dynamic
 * import of `@aws-sdk/client-ssm` itself keeps every command and schema of the package (about
 * 220 KB the function would compile on its cold start).
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AuthConfigError } from './settings.js';

export async function loadSecretFromSsm(name: string): Promise<string> {
  // The SDK picks AWS_ENDPOINT_URL_SSM up by itself (the local runtime's SSM emulator).
  const client = new SSMClient({});
  try {
    const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const value = out.Parameter?.Value;
    if (!value) throw new AuthConfigError(`SSM parameter ${name} is empty`);
    return value;
  } finally {
    client.destroy();
  }
}

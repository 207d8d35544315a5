/**
 * Configuration reaches the functions only through the template: the rate-limit context keys become
 * the RATE_* environment of the functions that rate-limit, and of no other; without them the
 * functions keep the handlers' defaults (RATE_LIMITS), with no RATE_* variable at all.
 */
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/config.js';
import { FUNCTIONS, type FunctionName } from '../../lambdas/shared/routes.js';
import { INLINE_FANOUT_FUNCTIONS, RATE_LIMITED_FUNCTIONS } from '../../lib/chat-stack.js';
import { loadFunctionTemplate } from '../../local/template.js';
import { LOW_RATE_LIMITS } from '../support/env.js';

const RATE_VARIABLES = [ENV.rateWindowSeconds, ENV.ratePerConnection, ENV.ratePerUser];
const NAMES = Object.keys(FUNCTIONS) as FunctionName[];

describe('rate limits as CDK context', () => {
  it('become the RATE_* environment of exactly the functions that rate-limit', async () => {
    const template = await loadFunctionTemplate(LOW_RATE_LIMITS);
    expect(RATE_LIMITED_FUNCTIONS).toEqual(['http', 'wsMessage']);
    for (const name of NAMES) {
      const env = template.functions[name].environment;
      if (RATE_LIMITED_FUNCTIONS.includes(name)) {
        expect(env[ENV.rateWindowSeconds], name).toBe(String(LOW_RATE_LIMITS.rateWindowSeconds));
        expect(env[ENV.ratePerConnection], name).toBe(String(LOW_RATE_LIMITS.ratePerConnection));
        expect(env[ENV.ratePerUser], name).toBe(String(LOW_RATE_LIMITS.ratePerUser));
      } else {
        for (const key of RATE_VARIABLES) expect(env, name).not.toHaveProperty(key);
      }
    }
  });

  it('set only what they name; the default template has no RATE_* variable', async () => {
    const partial = await loadFunctionTemplate({ ratePerUser: 500 });
    expect(Object.keys(partial.functions.http.environment).filter((k) => (RATE_VARIABLES as string[]).includes(k))).toEqual([ENV.ratePerUser]);
    const deployed = await loadFunctionTemplate();
    for (const name of NAMES) for (const key of RATE_VARIABLES) expect(deployed.functions[name].environment, name).not.toHaveProperty(key);
  });

  it('refuse a limit that is not a positive number', async () => {
    await expect(loadFunctionTemplate({ ratePerConnection: 0 })).rejects.toThrow(/ratePerConnection/);
  });
});

describe('inline fan-out size as CDK context', () => {
  it('becomes INLINE_FANOUT_MAX_MEMBERS of exactly the functions that deliver inline; 0 is allowed', async () => {
    const template = await loadFunctionTemplate({ inlineFanoutMaxMembers: 0 });
    for (const name of NAMES) {
      const env = template.functions[name].environment;
      if (INLINE_FANOUT_FUNCTIONS.includes(name)) expect(env[ENV.inlineFanoutMaxMembers], name).toBe('0');
      else expect(env, name).not.toHaveProperty(ENV.inlineFanoutMaxMembers);
    }
    const deployed = await loadFunctionTemplate();
    for (const name of NAMES) expect(deployed.functions[name].environment, name).not.toHaveProperty(ENV.inlineFanoutMaxMembers);
  });
});

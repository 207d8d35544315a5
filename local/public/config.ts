/**
 * Where the page finds the service, and its tokens.
 *
 * Endpoints: `?api=`, `?ws=`, `?sse=` query parameters; else `/config.json` when the server has one
 * (the local runtime does); else derived from the page's own origin (WebSocket on port + 1, SSE on
 * port + 2, the local runtime's default layout).
 *
 * Tokens come from the local runtime's `POST /api/dev/token` (absent on AWS, where a real identity
 * provider issues them). The admin role is asked for only when the person ticks "Admin tools".
 */
import { SSE_PATH } from '../../client/src/index.js';

/** Issued by the local runtime only; a 404 means the service runs without tokens. */
export const DEV_TOKEN_PATH = '/api/dev/token';
export const ADMIN_ROLE = 'admin';
/** Ask for a new token this long before the current one expires. */
const REFRESH_BEFORE_MS = 60_000;

export interface Endpoints {
  api: string;
  ws: string;
  /** Base URL of the SSE Function URL (the client appends the stream's path). */
  sse: string;
  /** The token endpoint, or undefined when the service runs without tokens. */
  tokenUrl: string | undefined;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

async function loadConfig(): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (!res.ok) return undefined;
    const body: unknown = await res.json();
    return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function siblingPort(scheme: 'ws' | 'http', offset: number): string {
  const here = new URL(location.origin);
  const secure = here.protocol === 'https:';
  const port = Number(here.port || (secure ? 443 : 80)) + offset;
  const protocol = scheme === 'ws' ? (secure ? 'wss:' : 'ws:') : here.protocol;
  return `${protocol}//${here.hostname.includes(':') ? `[${here.hostname}]` : here.hostname}:${port}`;
}

export async function discoverEndpoints(): Promise<Endpoints> {
  const params = new URLSearchParams(location.search);
  const config = await loadConfig();
  const api = trimSlash(str(params.get('api')) ?? str(config?.httpUrl) ?? location.origin);
  const ws = trimSlash(str(params.get('ws')) ?? str(config?.wsUrl) ?? siblingPort('ws', 1));
  const sse = trimSlash(str(params.get('sse')) ?? str(config?.sseUrl) ?? siblingPort('http', 2));
  // With a config the server says whether it issues tokens; without one, try its token route.
  const tokenUrl = config ? (config.auth === 'off' ? undefined : (str(config.tokenUrl) ?? `${api}${DEV_TOKEN_PATH}`)) : `${api}${DEV_TOKEN_PATH}`;
  return { api, ws, sse: sse.endsWith(SSE_PATH) ? sse.slice(0, -SSE_PATH.length) : sse, tokenUrl };
}

/** The claims the page reads from a token it was given (for display only: the service verifies it). */
export function rolesOf(token: string): string[] {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const roles = (JSON.parse(json) as { roles?: unknown }).roles;
    return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

export class TokenError extends Error {}

/** The dev tokens of one user: fetched once, refreshed shortly before they expire. */
export class DevTokens {
  private token: string | undefined;
  private expiresAt = 0;
  private inFlight: Promise<string | undefined> | undefined;
  /** False once the service answered that it has no token route (auth off). */
  private enabled: boolean;

  constructor(
    private readonly url: string | undefined,
    private readonly sub: string,
    private readonly roles: string[],
  ) {
    this.enabled = url !== undefined;
  }

  /** The current token; undefined when the service runs without tokens. */
  get(): Promise<string | undefined> {
    if (!this.enabled) return Promise.resolve(undefined);
    if (this.token && Date.now() < this.expiresAt - REFRESH_BEFORE_MS) return Promise.resolve(this.token);
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchToken(): Promise<string | undefined> {
    let res: Response;
    try {
      res = await fetch(this.url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: this.sub, roles: this.roles }),
      });
    } catch (error) {
      throw new TokenError(`Cannot reach the token endpoint: ${(error as Error).message}`);
    }
    if (res.status === 404) {
      this.enabled = false;
      return undefined;
    }
    const body = (await res.json().catch(() => ({}))) as { token?: unknown; expires_at?: unknown; error?: { message?: string }; message?: string };
    if (!res.ok || typeof body.token !== 'string') {
      throw new TokenError(`No token for "${this.sub}": ${body.error?.message ?? body.message ?? `HTTP ${res.status}`}`);
    }
    this.token = body.token;
    const expires = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : Number.NaN;
    this.expiresAt = Number.isNaN(expires) ? Date.now() + 3600_000 : expires;
    return this.token;
  }
}

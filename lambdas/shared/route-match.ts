/**
 * Matches a request path against the route table's paths, which may hold `{name}` segments (as
 * API Gateway route keys do). The handler and the local HTTP API emulator both match with this.
 */
import { HTTP_ROUTES, type HttpRoute } from './routes.js';

export interface RouteMatch {
  route: HttpRoute;
  /** Path parameters, URL-decoded (API Gateway's `pathParameters`). */
  params: Record<string, string>;
}

function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    const value = got[i]!;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      if (value === '') return undefined;
      try {
        params[segment.slice(1, -1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (segment !== value) {
      return undefined;
    }
  }
  return params;
}

/**
 * Routes whose path matches, literal paths before templated ones (API Gateway prefers the most
 * specific route: `/api/rooms/direct` over `/api/rooms/{room}`).
 */
export function routesForPath(path: string): RouteMatch[] {
  const out: RouteMatch[] = [];
  for (const route of HTTP_ROUTES) {
    const params = matchPath(route.path, path);
    if (params) out.push({ route, params });
  }
  return out.sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length);
}

export function matchRoute(method: string, path: string): RouteMatch | undefined {
  return routesForPath(path).find((m) => m.route.method === method);
}

/**
 * Building blocks of the composition roots. `uses(permissions, keys)` names the methods of a port a
 * function wires: it yields their declared IAM permissions (for the stack) and `narrow(impl)`, the
 * implementation cut down to exactly those methods, so a service that needs another one does not
 * type-check and nothing undeclared can be called. `lazy` builds a root once per cold start, on
 * first use (never at module load); `resetRoots` drops every built root (tests that change config).
 */
import { type MethodPermissions, mergePermissions, type Permission } from '../shared/permissions.js';

export interface Use<T, K extends keyof T> {
  readonly keys: readonly K[];
  readonly permissions: readonly Permission[];
  narrow(impl: T): Pick<T, K>;
}

export function uses<T, K extends keyof T>(permissions: MethodPermissions<T>, keys: readonly K[]): Use<T, K> {
  return {
    keys,
    permissions: keys.flatMap((k) => permissions[k]),
    narrow(impl: T): Pick<T, K> {
      const out = {} as Pick<T, K>;
      for (const key of keys) {
        const value = impl[key];
        out[key] = (typeof value === 'function' ? value.bind(impl) : value) as T[K];
      }
      return out;
    },
  };
}

const resets = new Set<() => void>();

export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  resets.add(() => {
    built = undefined;
  });
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** Forgets every built root, so the next use reads config again and builds anew (tests). */
export function resetRoots(): void {
  for (const reset of resets) reset();
}

/**
 * How a function deals with the caller's identity: 'identity' reads the one the authorizer
 * attached (it needs AUTH_MODE), 'verify' also verifies tokens itself (it needs the key source).
 */
export type AuthUse = 'identity' | 'verify';

/** What a function's root declares to the stack: its IAM permissions and its use of auth. */
export interface RootDeclaration {
  permissions: Permission[];
  auth?: AuthUse;
}

export function declareRoot(parts: ReadonlyArray<{ permissions: readonly Permission[] } | readonly Permission[]>, auth?: AuthUse): RootDeclaration {
  const permissions = parts.flatMap((part) => ('permissions' in part ? part.permissions : part));
  return auth ? { permissions: mergePermissions(permissions), auth } : { permissions: mergePermissions(permissions) };
}

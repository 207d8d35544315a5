/** Header lookup for API Gateway and Function URL events, whose header names may come in any case. */
export type Headers = Record<string, string | undefined> | null | undefined;

export function headerValue(headers: Headers, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === wanted);
  return key ? headers[key] : undefined;
}

/** A JSON body as a test reads it. */
export interface JsonBody {
  [key: string]: unknown;
}

export interface JsonAnswer {
  status: number;
  /** The parsed body; null when it was empty. */
  body: JsonBody | null;
  headers: Headers;
}

/** Something with an address: an AppProcess, or a base URL. */
type Target = { url(path: string): string } | string;

/**
 * One HTTP request as the platform's clients make it: a JSON body when given,
 * the session as `Authorization: Bearer`, the answer's body parsed.
 */
export async function callJson(
  target: Target,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<JsonAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const url = typeof target === 'string' ? `${target}${path}` : target.url(path);
  const res = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as JsonBody) : null,
    headers: res.headers,
  };
}

/** The page's only way to reach Parley: fetch with the signed-in key as a bearer token, errors in the API's one shape. */

const KEY_STORAGE = 'parley.dashboard.apiKey';

/** Dispatched on window when the stored key is refused. */
export const UNAUTHORIZED_EVENT = 'parley:unauthorized';

/** A non-2xx answer, carrying the API's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's details (for validation_failed: one {path, message} per field). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** The key kept for this browser tab (sessionStorage: gone when the tab closes). */
export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

/** Keeps (or, with null, forgets) the key for this tab. */
export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

/** What a call sends: a JSON body, or a multipart form (a file upload; the browser sets its content type and boundary). */
export interface RequestOptions {
  method?: string;
  body?: unknown;
  form?: FormData;
  key?: string;
}

/** Calls the API; resolves the response for ok statuses, rejects with an ApiError otherwise. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const key = options.key ?? storedKey();
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body: options.form ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (response.ok) return response;
  // A stored key that stopped working (revoked, expired): the page goes back to sign-in.
  if (response.status === 401 && options.key === undefined) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`;
  let details: unknown;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; details?: unknown } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
    details = body.error?.details;
  } catch {
    // not the API's JSON error shape; keep the status line
  }
  throw new ApiError(response.status, code, message, details);
}

/** GET (or another method) and parse JSON. */
export async function requestJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(path, options);
  return (response.status === 204 ? null : await response.json()) as T;
}

/** Query string from defined values. */
export function query(values: Record<string, string | number | boolean | undefined>): string {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) parameters.set(name, String(value));
  const text = parameters.toString();
  return text ? `?${text}` : '';
}

/**
 * The outbound HTTP client for tenant-configurable URLs (model base URLs, webhooks, crawled pages). Every request
 * and every redirect hop is checked against the URL policy (tenant-url.ts), and every connection against the
 * address policy on the address actually connected to: the connector resolves the name itself, refuses when any
 * answer is forbidden, hands net.connect only the checked addresses, and checks the socket's remote address once
 * connected. A name that answers "public" to a settings check and "private" at connect time (DNS rebinding) is
 * refused. Redirects are followed by hand (at most 5 by default); the response size and the total time are capped.
 *
 * `fetch` is a drop-in fetch for SDKs (OpenAI's `fetch` option, Gemini's global fetch through scoped-global-fetch);
 * `request` reads the whole, capped body for Parley's own calls (webhooks, crawling).
 */
import type dns from 'node:dns';
import net from 'node:net';
import {
  Agent,
  buildConnector,
  type Dispatcher,
  fetch as undiciFetch,
  type RequestInit as UndiciRequestInit,
  type Response as UndiciResponse,
} from 'undici';
import { forbiddenAddressReason, forbiddenNameReason, unbracketed } from './address-policy';
import { findOutboundError, OutboundRequestError } from './outbound-error';
import { checkTenantUrl, isAllowedHost, type Resolver, systemResolver, type TenantUrlPolicy } from './tenant-url';

export interface SafeHttpClientOptions extends TenantUrlPolicy {
  /** The resolver the connector uses (default: the system's getaddrinfo); tests inject one. */
  resolve?: Resolver;
  /** Defaults of every call, each overridable per call. */
  timeoutMs?: number;
  maxResponseBytes?: number;
  maxRedirects?: number;
  /** How long a TCP/TLS connection may take to open. */
  connectTimeoutMs?: number;
}

export interface SafeCallOptions {
  /** Total time: every redirect hop, and the body (to its last byte). */
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** 0 refuses any redirect (what SDK clients carrying credentials use). */
  maxRedirects?: number;
  /** Media types accepted ("text/html", "application/json", "text/*"); any when absent. */
  allowedContentTypes?: readonly string[];
  /** Extra headers dropped when a redirect leaves the origin; authorization, cookie and proxy-authorization always are. */
  sensitiveHeaders?: readonly string[];
  /** Where a redirect may lead (e.g. only Twilio's media hosts); any URL the policy accepts when absent. */
  allowRedirect?: (next: URL) => boolean;
}

export interface SafeRequestOptions extends SafeCallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Only the status and headers matter (a webhook): the body is not read, and its size does not count. */
  discardBody?: boolean;
}

export interface SafeResponse {
  status: number;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  redirects: number;
  body: Buffer;
}

const DEFAULTS = { timeoutMs: 30_000, maxResponseBytes: 10 * 1024 * 1024, maxRedirects: 5, connectTimeoutMs: 10_000 };
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const ALWAYS_SENSITIVE = ['authorization', 'cookie', 'proxy-authorization'];

type FetchInput = string | URL | Request;
type Body = UndiciRequestInit['body'];

interface Exchange {
  response: UndiciResponse;
  url: URL;
  redirects: number;
  /** Turns any error of this exchange (body reading included) into the error the caller should see. */
  translate(error: unknown): unknown;
}

/** An outbound HTTP client that only ever connects to public addresses (or the operator's allowlisted hosts). */
export class SafeHttpClient {
  private readonly guarded: Agent;
  private readonly trusted: Agent;
  private readonly policy: TenantUrlPolicy;
  private readonly defaults: typeof DEFAULTS;

  constructor(options: SafeHttpClientOptions) {
    this.policy = { requireHttps: options.requireHttps, allowedHosts: [...(options.allowedHosts ?? [])] };
    this.defaults = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      maxRedirects: options.maxRedirects ?? DEFAULTS.maxRedirects,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    };
    this.guarded = new Agent({ connect: guardedConnector(options.resolve ?? systemResolver, this.defaults.connectTimeoutMs) });
    // Allowlisted hosts are trusted by name: the operator listed them (OUTBOUND_ALLOWED_HOSTS), no address check.
    this.trusted = new Agent({ connect: { timeout: this.defaults.connectTimeoutMs } });
  }

  /** The URL policy this client applies (for a settings API that validates with the same rules). */
  get urlPolicy(): TenantUrlPolicy {
    return this.policy;
  }

  /** A fetch for SDKs: same contract as the global fetch, with this client's checks and caps. */
  fetchWith(options: SafeCallOptions = {}): (input: FetchInput, init?: RequestInit) => Promise<Response> {
    return async (input, init) => {
      const request = await normaliseFetchInput(input, init);
      const exchange = await this.exchange(request.url, request, options);
      const { response } = exchange;
      const maxBytes = options.maxResponseBytes ?? this.defaults.maxResponseBytes;
      try {
        checkContentType(response, options.allowedContentTypes, exchange.url);
        checkDeclaredLength(response, maxBytes, exchange.url);
      } catch (error) {
        await response.body?.cancel().catch(() => undefined);
        throw error;
      }
      const body = response.body && !NULL_BODY_STATUSES.has(response.status) ? capStream(response.body, maxBytes, exchange) : null;
      return new Response(body, { status: response.status, statusText: response.statusText, headers: [...response.headers] });
    };
  }

  /** `fetchWith()` with this client's defaults. */
  readonly fetch = this.fetchWith();

  /** Sends a request and reads the whole body (capped); never follows more than maxRedirects redirects. */
  async request(target: string | URL, options: SafeRequestOptions = {}): Promise<SafeResponse> {
    const exchange = await this.exchange(
      target,
      { method: options.method ?? 'GET', headers: new Headers(options.headers), body: options.body, signal: options.signal },
      options,
    );
    const { response } = exchange;
    const maxBytes = options.maxResponseBytes ?? this.defaults.maxResponseBytes;
    try {
      checkContentType(response, options.allowedContentTypes, exchange.url);
      if (!options.discardBody) checkDeclaredLength(response, maxBytes, exchange.url);
    } catch (error) {
      await response.body?.cancel().catch(() => undefined);
      throw error;
    }
    if (options.discardBody) await response.body?.cancel().catch(() => undefined);
    const body = options.discardBody ? Buffer.alloc(0) : await readCapped(response, maxBytes, exchange);
    return {
      status: response.status,
      headers: new Headers([...response.headers]),
      url: exchange.url.href,
      redirects: exchange.redirects,
      body,
    };
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await Promise.all([this.guarded.close(), this.trusted.close()]);
  }

  private async exchange(
    target: string | URL,
    request: { method: string; headers: Headers; body?: Body; signal?: AbortSignal | null },
    options: SafeCallOptions,
  ): Promise<Exchange> {
    const timeoutMs = options.timeoutMs ?? this.defaults.timeoutMs;
    const maxRedirects = options.maxRedirects ?? this.defaults.maxRedirects;
    const timeout = AbortSignal.timeout(timeoutMs);
    const callerSignal = request.signal ?? undefined;
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    let url = this.checkedUrl(String(target));
    let { method, body } = request;
    const headers = new Headers(request.headers);
    const translate = (error: unknown): unknown => {
      // The caller's own abort stays theirs (an SDK recognises its AbortError).
      if (callerSignal?.aborted) return error;
      const outbound = findOutboundError(error);
      if (outbound) return outbound;
      if (timeout.aborted)
        return new OutboundRequestError('timeout', `${url.origin} gave no complete answer within ${timeoutMs} ms`, {
          target: url.origin,
          cause: error,
        });
      return new OutboundRequestError('network', `${url.origin} could not be reached`, { target: url.origin, cause: error });
    };
    for (let redirects = 0; ; redirects += 1) {
      let response: UndiciResponse;
      try {
        response = await undiciFetch(url, {
          method,
          headers: [...headers],
          body,
          redirect: 'manual',
          signal,
          dispatcher: this.dispatcherFor(url),
        });
      } catch (error) {
        throw translate(error);
      }
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || location === null) return { response, url, redirects, translate };
      await response.body?.cancel().catch(() => undefined);
      if (redirects >= maxRedirects) {
        throw new OutboundRequestError('too_many_redirects', `${url.origin} redirected more than ${maxRedirects} times`, {
          target: url.origin,
        });
      }
      let next: URL;
      try {
        next = this.checkedUrl(new URL(location, url).href);
      } catch (error) {
        throw findOutboundError(error) ?? new OutboundRequestError('forbidden_url', 'redirect to an invalid URL', { target: url.origin });
      }
      if (options.allowRedirect && !options.allowRedirect(next)) {
        throw new OutboundRequestError('forbidden_url', `${url.origin} redirected to a host not allowed for this request`, {
          target: url.origin,
        });
      }
      // As browsers do: 303, and 301/302 after a POST, become a GET without a body; 307/308 repeat the request.
      if ((response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers.delete('content-type');
        headers.delete('content-length');
      } else if (!isReplayable(body)) {
        throw new OutboundRequestError('redirect_not_replayable', `${url.origin} redirected a streamed request body`, {
          target: url.origin,
        });
      }
      if (next.origin !== url.origin) for (const name of [...ALWAYS_SENSITIVE, ...(options.sensitiveHeaders ?? [])]) headers.delete(name);
      url = next;
    }
  }

  private checkedUrl(value: string): URL {
    const checked = checkTenantUrl(value, this.policy);
    if (!checked.ok) {
      let origin: string | undefined;
      try {
        origin = new URL(value).origin;
      } catch {
        origin = undefined;
      }
      throw new OutboundRequestError('forbidden_url', `URL refused: ${checked.reason}`, { target: origin });
    }
    return checked.url;
  }

  private dispatcherFor(url: URL): Dispatcher {
    return isAllowedHost(url, this.policy.allowedHosts) ? this.trusted : this.guarded;
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A dns.lookup replacement for net.connect: resolves with `resolve`, refuses when any answer is forbidden, and
 * returns only the answers it checked, so the socket connects to a checked address and nothing else.
 */
export function guardedLookup(resolve: Resolver) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (answers) => {
        for (const answer of answers) {
          const reason = forbiddenAddressReason(answer.address);
          if (reason) {
            const error = new OutboundRequestError('forbidden_address', `${hostname} resolves to a ${reason} address`, {
              target: hostname,
            });
            callback(error as NodeJS.ErrnoException, '');
            return;
          }
        }
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = family ? answers.filter((answer) => answer.family === family) : answers;
        if (usable.length === 0) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '');
          return;
        }
        if (options.all)
          callback(
            null,
            usable.map((answer) => ({ address: answer.address, family: answer.family })),
          );
        else callback(null, usable[0].address, usable[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

/** undici's connector with the address policy: IP literals and names checked before, the peer address after. */
function guardedConnector(resolve: Resolver, connectTimeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: connectTimeoutMs, lookup: guardedLookup(resolve) } as buildConnector.BuildOptions);
  return (options, callback) => {
    const host = unbracketed(options.hostname);
    const refuse = (code: 'forbidden_address' | 'forbidden_url', message: string) =>
      callback(new OutboundRequestError(code, message, { target: `${options.protocol}//${options.hostname}` }), null);
    if (net.isIP(host)) {
      const reason = forbiddenAddressReason(host);
      if (reason) return refuse('forbidden_address', `${host} is a ${reason} address`);
    } else {
      const reason = forbiddenNameReason(host);
      if (reason) return refuse('forbidden_url', `${host}: ${reason}`);
    }
    connect(options, (error, socket) => {
      if (error || !socket) return callback(error ?? new Error('no socket'), null);
      // Whatever resolved the name, this is the address the bytes go to.
      const remote = socket.remoteAddress;
      const reason = remote === undefined ? 'unknown' : forbiddenAddressReason(remote);
      if (reason) {
        socket.destroy();
        return refuse('forbidden_address', `${host} connected to a ${reason} address`);
      }
      callback(null, socket);
    });
  };
}

async function normaliseFetchInput(
  input: FetchInput,
  init: RequestInit | undefined,
): Promise<{ url: string; method: string; headers: Headers; body?: Body; signal?: AbortSignal | null }> {
  if (input instanceof Request) {
    const hasBody = input.body !== null && init?.body === undefined;
    return {
      url: input.url,
      method: init?.method ?? input.method,
      headers: new Headers(init?.headers ?? input.headers),
      body: hasBody ? new Uint8Array(await input.arrayBuffer()) : (init?.body as Body),
      signal: init?.signal ?? input.signal,
    };
  }
  return {
    url: String(input),
    method: init?.method ?? 'GET',
    headers: new Headers(init?.headers),
    body: init?.body as Body,
    signal: init?.signal,
  };
}

function isReplayable(body: Body): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    body instanceof URLSearchParams ||
    body instanceof Blob
  );
}

function checkContentType(response: UndiciResponse, allowed: readonly string[] | undefined, url: URL): void {
  if (!allowed) return;
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const accepted = allowed.some((entry) => {
    const wanted = entry.toLowerCase();
    return wanted.endsWith('/*') ? mediaType.startsWith(wanted.slice(0, -1)) : mediaType === wanted;
  });
  if (!accepted)
    throw new OutboundRequestError('content_type', `${url.origin} answered ${mediaType || 'no content type'}`, { target: url.origin });
}

function checkDeclaredLength(response: UndiciResponse, maxBytes: number, url: URL): void {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) tooLarge(maxBytes, url);
}

function tooLarge(maxBytes: number, url: URL): never {
  throw new OutboundRequestError('response_too_large', `${url.origin} answered more than ${maxBytes} bytes`, { target: url.origin });
}

function capStream(body: ReadableStream<Uint8Array>, maxBytes: number, exchange: Exchange): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let total = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        total += value.byteLength;
        if (total > maxBytes) tooLarge(maxBytes, exchange.url);
        controller.enqueue(value);
      } catch (error) {
        await reader.cancel().catch(() => undefined);
        controller.error(exchange.translate(error));
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

async function readCapped(response: UndiciResponse, maxBytes: number, exchange: Exchange): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks);
      total += value.byteLength;
      if (total > maxBytes) tooLarge(maxBytes, exchange.url);
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw exchange.translate(error);
  }
}

/**
 * A loopback website for the crawler and fetch tests: routes by path (query ignored) to pages, redirects, huge or
 * binary answers; every request is logged with its User-Agent. Unknown paths answer 404. Tests reach it only by
 * allowlisting its "127.0.0.1:port" in the SafeHttpClient (OUTBOUND_ALLOWED_HOSTS in production).
 */
import type http from 'node:http';
import { startLoopback } from './llm-faults';

export interface FakePage {
  status?: number;
  contentType?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Sent in 16 KiB pieces without a Content-Length (a stream whose size is known only by reading it). */
  chunked?: boolean;
}

export type FakeRoute = FakePage | ((request: http.IncomingMessage) => FakePage);

export interface LoggedRequest {
  path: string;
  userAgent: string | undefined;
}

export interface FakeWebsite {
  /** http://127.0.0.1:port */
  url: string;
  port: number;
  /** "127.0.0.1:port", the allowlist entry. */
  hostPort: string;
  requests: LoggedRequest[];
  set(path: string, route: FakeRoute): void;
  close(): Promise<void>;
}

/** An HTML page with a title, the given body and a site footer. */
export function htmlPage(title: string, body: string): FakePage {
  return {
    contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><html><head><title>${title}</title></head><body><nav><a href="/">Home</a></nav>${body}<footer>© Example shop</footer></body></html>`,
  };
}

export function redirectTo(location: string, status = 302): FakePage {
  return { status, headers: { location } };
}

export async function startWebsite(routes: Record<string, FakeRoute> = {}): Promise<FakeWebsite> {
  const table = new Map<string, FakeRoute>(Object.entries(routes));
  const requests: LoggedRequest[] = [];
  // The shared loopback server of the fakes (llm-faults.ts): port 0, hanging sockets destroyed on close.
  const loopback = await startLoopback((request, _body, response) => {
    const path = new URL(request.url ?? '/', 'http://site').pathname;
    requests.push({ path, userAgent: request.headers['user-agent'] });
    const route = table.get(path);
    const page: FakePage =
      route === undefined
        ? { status: 404, contentType: 'text/plain', body: 'not found' }
        : typeof route === 'function'
          ? route(request)
          : route;
    const body = typeof page.body === 'string' ? Buffer.from(page.body, 'utf8') : (page.body ?? Buffer.alloc(0));
    const headers: Record<string, string> = { ...page.headers };
    if (page.contentType) headers['content-type'] = page.contentType;
    if (!page.chunked) headers['content-length'] = String(body.length);
    response.writeHead(page.status ?? 200, headers);
    if (!page.chunked) {
      response.end(body);
      return;
    }
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + 16 * 1024);
        offset += piece.length;
        if (!response.write(piece)) {
          response.once('drain', writeMore);
          return;
        }
      }
      response.end();
    };
    response.on('error', () => undefined);
    writeMore();
  });
  const port = Number(new URL(loopback.url).port);
  return {
    url: loopback.url,
    port,
    hostPort: `127.0.0.1:${port}`,
    requests,
    set: (path, route) => table.set(path, route),
    close: () => loopback.close(),
  };
}

/**
 * The web process's HTTP server for the express app. Node builds every request and response as an instance of a
 * class whose prototype is the app's own (app.request, app.response), so when express re-prototypes them for each
 * request (Object.setPrototypeOf in app.handle) they already have that prototype and nothing changes.
 *
 * Why: changing the prototype of two objects per request made V8 keep them, and everything they reach, alive
 * through young-generation collections. Measured with --trace-gc-nvp at a steady 1,500 requests/s on a bare
 * express 5 route: 38 % of everything allocated survived each scavenge and was then promoted, so the old generation
 * filled and a mark-compact (a 10-17 ms pause, which is what the webhook's p99 is made of) came every few seconds.
 * With the prototypes in place from construction about 1 kB survives a scavenge, as with a bare http server.
 */
import http, { type Server } from 'node:http';
import type { Express } from 'express';
import { attachClientErrorHandler } from './client-errors';

/**
 * An http.Server for `app`, with parser-level client errors answered in the JSON error shape. It re-points
 * app.request and app.response to the prototypes of the classes it constructs (same chain: express's request and
 * response, then Node's), so `app` is meant to be served by this server.
 */
export function createHttpServer(app: Express): Server {
  class ExpressRequest extends http.IncomingMessage {}
  class ExpressResponse extends http.ServerResponse {}
  for (const [requestClass, current, name] of [
    [ExpressRequest, app.request, 'request'],
    [ExpressResponse, app.response, 'response'],
  ] as const) {
    // app.request is Object.create(express.request) with an `app` property; the class prototype takes its place.
    Object.setPrototypeOf(requestClass.prototype, Object.getPrototypeOf(current));
    Object.defineProperty(requestClass.prototype, 'app', { configurable: true, enumerable: true, writable: true, value: app });
    Object.defineProperty(app, name, { configurable: true, enumerable: true, writable: true, value: requestClass.prototype });
  }
  return attachClientErrorHandler(http.createServer({ IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse }, app));
}

/**
 * Application errors carry an HTTP status and a stable code; one middleware renders every error as
 * {error: {code, message, details?}}. Nothing internal (stack, driver message) ever reaches a client.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { loggableError } from '../loggable-error';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** 400: the request is malformed or fails validation. */
export const badRequest = (message: string, details?: unknown) => new AppError(400, 'bad_request', message, details);
/** 400 with the zod issues as details. */
export const validationFailed = (error: ZodError, where: string) =>
  new AppError(
    400,
    'validation_failed',
    `Invalid ${where}`,
    error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  );
/** 401: no valid credentials. */
export const unauthorized = (message = 'A valid API key is required') => new AppError(401, 'unauthorized', message);
/** 403: authenticated but not allowed (missing scope, bad webhook signature). */
export const forbidden = (message: string, code = 'forbidden') => new AppError(403, code, message);
/** 404: unknown or not visible to this tenant. */
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
/** 409: conflicts with stored state. */
export const conflict = (message: string, details?: unknown) => new AppError(409, 'conflict', message, details);
/** 429: slow down. */
export const tooManyRequests = (message = 'Too many requests') => new AppError(429, 'rate_limited', message);

/** Express 5 body-parser errors carry a `type`; map the ones a client can cause to 4xx. */
function fromBodyParserError(error: unknown): AppError | null {
  if (typeof error !== 'object' || error === null || !('type' in error)) return null;
  switch ((error as { type: unknown }).type) {
    case 'entity.too.large':
      return new AppError(413, 'payload_too_large', 'Request body is too large');
    case 'entity.parse.failed':
      return new AppError(400, 'malformed_body', 'Request body could not be parsed');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(415, 'unsupported_encoding', 'Unsupported request body encoding or charset');
    case 'request.aborted':
      return new AppError(400, 'request_aborted', 'Request was aborted');
    case 'parameters.too.many':
      return new AppError(413, 'payload_too_large', 'Too many parameters');
    case 'entity.verify.failed':
    case 'stream.encoding.set':
    case 'stream.not.readable':
    case 'request.size.invalid':
      return new AppError(400, 'malformed_body', 'Request body could not be read');
    default:
      return null;
  }
}

/** Other client errors raised inside express (a path parameter that is not valid percent-encoding: status 400). */
function fromHttpClientError(error: unknown): AppError | null {
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  return new AppError(status, status === 400 ? 'bad_request' : 'client_error', status === 400 ? 'Malformed request' : 'Request rejected');
}

/** Maps any thrown value to the status and body a client sees. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  const appError =
    error instanceof AppError
      ? error
      : error instanceof ZodError
        ? validationFailed(error, 'request')
        : (fromBodyParserError(error) ?? fromHttpClientError(error));
  if (appError) {
    const body: ErrorBody = { error: { code: appError.code, message: appError.message } };
    if (appError.details !== undefined) body.error.details = appError.details;
    return { status: appError.status, body };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'Internal server error' } } };
}

/** The one error-rendering middleware. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  // loggableError has already made the error safe to log; pino's own err serializer would only re-derive its type.
  const log = logger.child({}, { serializers: { err: (value: unknown) => value } });
  return (error, request, response, _next) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) log.error({ err: loggableError(error), method: request.method, path: request.path }, 'request failed');
    else logger.debug({ code: body.error.code, path: request.path }, 'request rejected');
    if (response.headersSent) return;
    response.status(status).json(body);
  };
}

/** Unknown routes get the same JSON shape. */
export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new AppError(404, 'route_not_found', `No route for ${request.method} ${request.path}`));
};

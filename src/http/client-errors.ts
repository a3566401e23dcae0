/**
 * Errors Node's HTTP parser raises before express sees a request (headers too large, malformed request line)
 * still get the one JSON error shape.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

const STATUS_BY_CODE: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'Request headers or URL are too large'],
  HPE_URI_TOO_LONG: [414, 'uri_too_long', 'Request URL is too long'],
};

/** Answers parser-level client errors with a JSON 4xx instead of Node's bare response. */
export function attachClientErrorHandler(server: Server): Server {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, code, message] = STATUS_BY_CODE[error.code ?? ''] ?? [400, 'bad_request', 'Malformed HTTP request'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 414 ? 'URI Too Long' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/**
 * An open-loop load generator: request i is due at start + i / rate, whatever happened to earlier ones, and its
 * latency is counted from when it was due (so a stalled server is charged for the requests it delayed: no
 * coordinated omission). autocannon cannot do this: its rate option lets each connection fire its whole
 * per-second quota back to back at the start of every second, so a "steady 1,500 req/s" there is really a
 * saturating burst each second.
 *
 * The generator shares the machine's two cores with the server and PostgreSQL, so every microsecond it spends is
 * taken from what it measures. It therefore speaks HTTP/1.1 on plain keep-alive sockets, like autocannon: each
 * request is one pre-built buffer written with one call, and a response is read only as far as its status line
 * and length. Node's http client (request and response objects, an agent, header parsing) cost about 0.33 ms of
 * CPU per request here, a fifth of the machine at 1,500 req/s.
 */
import net from 'node:net';
import { quantile } from './report';

export interface PreparedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Handed back in the result for every 2xx answer. */
  key: string;
}

export interface OpenLoopResult {
  p50: number;
  p99: number;
  max: number;
  /** Completed requests per second of the run's wall time. */
  requestsPerSecond: number;
  ok: number;
  failures: number;
  acceptedKeys: string[];
  /** Why requests failed (status and the start of the body, or the socket error), counted. */
  failureReasons: Record<string, number>;
}

/** One request on the wire: request line, headers (with Host and Content-Length) and body, in one buffer. */
export function encodeRequest(host: string, request: PreparedRequest): Buffer {
  const body = Buffer.from(request.body);
  const headers = Object.entries(request.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return Buffer.concat([
    Buffer.from(`POST ${request.path} HTTP/1.1\r\nhost: ${host}\r\n${headers}content-length: ${body.length}\r\n\r\n`),
    body,
  ]);
}

export interface ParsedResponse {
  status: number;
  /** The start of the body (for failure reasons). */
  bodyStart: string;
  /** Bytes of the buffer this response used. */
  length: number;
  /** The server closes the connection after this response (Connection: close): it cannot take another request. */
  close: boolean;
}

/** Node's servers close a keep-alive socket idle for 5 s; the generator drops its own after 4 s (as the old agent did). */
const MAX_IDLE_MS = 4_000;

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * The first complete response in `buffer`, or null if more bytes are needed. Enough HTTP/1.1 for a benchmark:
 * a Content-Length body, a chunked body, or none (204, 304).
 */
export function parseResponse(buffer: Buffer): ParsedResponse | null {
  const headerEnd = buffer.indexOf(HEADER_END);
  if (headerEnd < 0) return null;
  const head = buffer.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const bodyStart = headerEnd + HEADER_END.length;
  const close = /\r\nconnection:\s*close/i.test(head);
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (lengthMatch) {
    const end = bodyStart + Number(lengthMatch[1]);
    if (buffer.length < end) return null;
    return { status, bodyStart: buffer.toString('utf8', bodyStart, Math.min(end, bodyStart + 200)), length: end, close };
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    // Chunks: a hexadecimal size line, that many bytes, CRLF; a zero size (and an empty trailer) ends the body.
    let position = bodyStart;
    let text = '';
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', position);
      if (lineEnd < 0) return null;
      const size = parseInt(buffer.toString('latin1', position, lineEnd), 16);
      // A malformed size line: take what arrived as the response and drop the connection.
      if (Number.isNaN(size)) return { status, bodyStart: text.slice(0, 200), length: buffer.length, close: true };
      if (size === 0) {
        if (buffer.length < lineEnd + 4) return null;
        return { status, bodyStart: text.slice(0, 200), length: lineEnd + 4, close };
      }
      if (buffer.length < lineEnd + 2 + size + 2) return null;
      if (text.length < 200) text += buffer.toString('utf8', lineEnd + 2, lineEnd + 2 + size);
      position = lineEnd + 2 + size + 2;
    }
  }
  return { status, bodyStart: '', length: bodyStart, close };
}

/** A keep-alive socket with at most one request in flight (no pipelining, as Twilio sends). */
interface Connection {
  socket: net.Socket;
  closed: boolean;
  /** When it last became idle: a socket idle too long is dropped before the server's keep-alive timeout can close it under a request. */
  idleSince: number;
  received: Buffer;
  /** The index of the request in flight, if any. */
  inFlight: number | null;
}

type Outcome = { status: number; bodyStart: string } | { error: string };

/** Sends `requests` to `origin` at `rate` per second over at most `connections` keep-alive sockets. */
export async function runOpenLoop(origin: string, requests: PreparedRequest[], rate: number, connections: number): Promise<OpenLoopResult> {
  const url = new URL(origin);
  const host = url.host;
  const port = Number(url.port || 80);
  // Built before the clock starts: the generator's time in the run is sockets and bookkeeping only.
  const wire = requests.map((request) => encodeRequest(host, request));
  const latencies: number[] = [];
  const acceptedKeys: string[] = [];
  const failureReasons: Record<string, number> = {};
  const idle: Connection[] = [];
  const waiting: number[] = [];
  let open = 0;
  let sent = 0;
  let finished = 0;
  const start = performance.now();

  return new Promise<OpenLoopResult>((resolve) => {
    const complete = (index: number, outcome: Outcome) => {
      latencies.push(performance.now() - (start + (index * 1000) / rate));
      if ('status' in outcome && outcome.status >= 200 && outcome.status < 300) acceptedKeys.push(requests[index].key);
      else {
        const reason = 'error' in outcome ? outcome.error : `${outcome.status} ${outcome.bodyStart}`;
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
      }
      finished += 1;
      if (finished === requests.length) finish();
    };

    const dispatch = (connection: Connection, index: number) => {
      connection.inFlight = index;
      connection.socket.write(wire[index]);
    };

    /** Counts a request's answer, then gives its socket to the next waiting request or to the idle ones. */
    const answered = (connection: Connection, index: number, outcome: Outcome) => {
      complete(index, outcome);
      if (connection.closed) return;
      const next = waiting.shift();
      if (next !== undefined) dispatch(connection, next);
      else {
        connection.idleSince = performance.now();
        idle.push(connection);
      }
    };

    /** Closes a socket for good and frees its place for a new one. */
    const retire = (connection: Connection) => {
      connection.closed = true;
      connection.socket.destroy();
      const position = idle.indexOf(connection);
      if (position >= 0) idle.splice(position, 1);
      open -= 1;
    };

    const connect = (index: number) => {
      open += 1;
      const connection: Connection = {
        socket: net.connect({ host: url.hostname, port, noDelay: true }),
        closed: false,
        idleSince: 0,
        received: Buffer.alloc(0),
        inFlight: null,
      };
      connection.socket.on('data', (chunk: Buffer) => {
        connection.received = connection.received.length === 0 ? chunk : Buffer.concat([connection.received, chunk]);
        const response = parseResponse(connection.received);
        if (!response || connection.inFlight === null) return;
        connection.received = connection.received.subarray(response.length);
        const index = connection.inFlight;
        connection.inFlight = null;
        // A socket the server is closing must not take the next request (it would be lost with the socket).
        if (response.close) lost('closed by server');
        answered(connection, index, { status: response.status, bodyStart: response.bodyStart });
      });
      const lost = (reason: string) => {
        if (connection.closed) return;
        retire(connection);
        const index = connection.inFlight;
        connection.inFlight = null;
        if (index !== null) complete(index, { error: `socket ${reason}` });
        // A waiting request gets a new socket in place of the lost one.
        const next = waiting.shift();
        if (next !== undefined) connect(next);
      };
      connection.socket.on('error', (error) => lost(`error: ${error.message}`));
      connection.socket.on('close', () => lost('closed'));
      dispatch(connection, index);
    };

    const send = (index: number) => {
      let connection = idle.pop();
      while (connection && performance.now() - connection.idleSince > MAX_IDLE_MS) {
        retire(connection);
        connection = idle.pop();
      }
      if (connection) dispatch(connection, index);
      else if (open < connections) connect(index);
      else waiting.push(index);
    };

    const finish = () => {
      for (const connection of idle) connection.socket.destroy();
      const elapsedSeconds = (performance.now() - start) / 1000;
      const failures = requests.length - acceptedKeys.length;
      resolve({
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: Math.max(...latencies),
        requestsPerSecond: (requests.length - failures) / elapsedSeconds,
        ok: requests.length - failures,
        failures,
        acceptedKeys,
        failureReasons,
      });
    };

    // A 1 ms tick sends everything that has come due; timers are coarse, the schedule is not.
    const tick = () => {
      const now = performance.now();
      while (sent < requests.length && start + (sent * 1000) / rate <= now) send(sent++);
      if (sent < requests.length) setTimeout(tick, 1);
    };
    if (requests.length === 0) finish();
    else tick();
  });
}

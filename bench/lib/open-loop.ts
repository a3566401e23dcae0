/**
 * An open-loop load generator: request i is due at start + i / rate, whatever happened to earlier ones, and its
 * latency is counted from when it was due (so a stalled server is charged for the requests it delayed: no
 * coordinated omission). autocannon cannot do this: its rate option lets each connection fire its whole
 * per-second quota back to back at the start of every second, so a "steady 1,500 req/s" there is really a
 * saturating burst each second. Requests are built before the clock starts so the generator stays cheap.
 */
import http from 'node:http';
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

/** Sends `requests` to `origin` at `rate` per second over at most `connections` keep-alive sockets. */
export async function runOpenLoop(origin: string, requests: PreparedRequest[], rate: number, connections: number): Promise<OpenLoopResult> {
  // Idle sockets are dropped after 4 s, before the server's 5 s keep-alive timeout can close one under a request.
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, timeout: 4_000 });
  const url = new URL(origin);
  const latencies: number[] = [];
  const acceptedKeys: string[] = [];
  const failureReasons: Record<string, number> = {};
  const fail = (reason: string) => {
    failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
  };
  let sent = 0;
  let finished = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const send = (index: number) => {
      const due = start + (index * 1000) / rate;
      const request = requests[index];
      const outgoing = http.request(
        { host: url.hostname, port: url.port, path: request.path, method: 'POST', agent, headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body = (body + chunk.toString()).slice(0, 200)));
          response.on('end', () => {
            latencies.push(performance.now() - due);
            if (response.statusCode! >= 200 && response.statusCode! < 300) acceptedKeys.push(request.key);
            else fail(`${response.statusCode} ${body}`);
            done();
          });
        },
      );
      outgoing.on('error', (error) => {
        fail(`socket error: ${error.message}`);
        done();
      });
      outgoing.end(request.body);
    };
    const done = () => {
      finished += 1;
      if (finished === requests.length) resolve();
    };
    // A 1 ms tick sends everything that has come due; timers are coarse, the schedule is not.
    const tick = () => {
      const now = performance.now();
      while (sent < requests.length && start + (sent * 1000) / rate <= now) send(sent++);
      if (sent < requests.length) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsedSeconds = (performance.now() - start) / 1000;
  const failures = requests.length - acceptedKeys.length;
  agent.destroy();
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: Math.max(...latencies),
    requestsPerSecond: (requests.length - failures) / elapsedSeconds,
    ok: requests.length - failures,
    failures,
    acceptedKeys,
    failureReasons,
  };
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseResponse, runOpenLoop, type PreparedRequest } from '../../bench/lib/open-loop';

const servers: http.Server[] = [];

/** A loopback server answering with `handler`; resolves to its origin. */
async function startServer(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function requests(count: number, path = '/ingest'): PreparedRequest[] {
  return Array.from({ length: count }, (_, index) => ({
    path: `${path}?n=${index}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `MessageSid=SM${index}&Body=hello+${index}`,
    key: `SM${index}`,
  }));
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('open-loop load generator', () => {
  it('sends every request with its body and counts the 2xx answers as accepted', async () => {
    const bodies: string[] = [];
    const origin = await startServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
      });
    });

    const result = await runOpenLoop(origin, requests(60), 600, 5);

    expect(result.ok).toBe(60);
    expect(result.failures).toBe(0);
    expect(new Set(result.acceptedKeys)).toEqual(new Set(requests(60).map((request) => request.key)));
    expect(bodies.sort()).toEqual(
      requests(60)
        .map((request) => request.body)
        .sort(),
    );
  });

  it('counts non-2xx answers, chunked or empty, as failures with their status', async () => {
    const origin = await startServer((request, response) => {
      const index = Number(new URL(request.url!, 'http://x').searchParams.get('n'));
      request.resume();
      request.on('end', () => {
        if (index % 3 === 0) response.writeHead(204).end();
        else if (index % 3 === 1) {
          response.writeHead(500, { 'content-type': 'application/json' });
          response.write('{"error":');
          response.end('{"code":"boom"}}');
        } else response.writeHead(403, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_signature"}}');
      });
    });

    const result = await runOpenLoop(origin, requests(30), 1000, 3);

    expect(result.ok).toBe(10);
    expect(result.failures).toBe(20);
    expect(result.failureReasons).toEqual({
      '500 {"error":{"code":"boom"}}': 10,
      '403 {"error":{"code":"invalid_signature"}}': 10,
    });
  });

  it('paces requests at the given rate instead of sending them all at once', async () => {
    const origin = await startServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200).end('ok'));
    });

    const started = performance.now();
    const result = await runOpenLoop(origin, requests(100), 500, 10);

    // The 100th request is due 198 ms after the first.
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(result.ok).toBe(100);
  });

  it('charges a stalled server for the requests it delayed, counting from when each was due', async () => {
    let first = true;
    const origin = await startServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const delay = first ? 300 : 0;
        first = false;
        setTimeout(() => response.writeHead(200).end('ok'), delay);
      });
    });

    // One socket: every request due during the first one's 300 ms waits behind it.
    const result = await runOpenLoop(origin, requests(100), 1000, 1);

    expect(result.ok).toBe(100);
    expect(result.max).toBeGreaterThanOrEqual(290);
    // Half the requests were due while the first was stalled: the median waited too.
    expect(result.p50).toBeGreaterThan(100);
  });

  it('replaces a socket the server closes and reports the request that was on it', async () => {
    let served = 0;
    const origin = await startServer((request, response) => {
      request.resume();
      request.on('end', () => {
        served += 1;
        if (served === 5) return request.socket.destroy();
        // Every tenth answer closes its connection, as a server at its keep-alive limit does.
        response.writeHead(200, served % 10 === 0 ? { connection: 'close' } : {}).end('ok');
      });
    });

    const result = await runOpenLoop(origin, requests(40), 800, 4);

    expect(result.ok).toBe(39);
    expect(result.failureReasons).toEqual({ 'socket closed': 1 });
  });
});

describe('parseResponse', () => {
  it('waits for the whole body before returning a response', () => {
    const whole = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n<Response/>');
    expect(parseResponse(whole.subarray(0, whole.length - 1))).toBeNull();
    expect(parseResponse(whole)).toEqual({ status: 200, bodyStart: '<Response/>', length: whole.length, close: false });
  });

  it('reads a chunked body to its last chunk, whatever the chunks contain', () => {
    const chunked = Buffer.from('HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab0\r\n\r\ncd\r\n3\r\nefg\r\n0\r\n\r\n');
    expect(parseResponse(chunked.subarray(0, chunked.length - 2))).toBeNull();
    expect(parseResponse(chunked)).toEqual({ status: 500, bodyStart: 'ab0\r\n\r\ncdefg', length: chunked.length, close: false });
  });

  it('gives up on a malformed chunk size instead of waiting for ever, and closes the connection', () => {
    const malformed = Buffer.from('HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n');
    expect(parseResponse(malformed)).toEqual({ status: 502, bodyStart: '', length: malformed.length, close: true });
  });
});

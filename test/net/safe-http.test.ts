import type http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { OutboundRequestError } from '../../src/net/outbound-error';
import { guardedLookup, SafeHttpClient } from '../../src/net/safe-http';
import { checkTenantUrlAddresses, type Resolver } from '../../src/net/tenant-url';
import { type LoopbackServer, startLoopback } from '../fakes/llm-faults';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Recorder extends LoopbackServer {
  seen: Seen[];
  port: number;
  hostPort: string;
}

/** A loopback server that records every request and answers with `handler`. */
async function recorder(handler: (request: http.IncomingMessage, response: http.ServerResponse) => void): Promise<Recorder> {
  const seen: Seen[] = [];
  const server = await startLoopback((request, body, response) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
    handler(request, response);
  });
  const port = Number(new URL(server.url).port);
  return { ...server, seen, port, hostPort: `127.0.0.1:${port}` };
}

const ok = (_request: http.IncomingMessage, response: http.ServerResponse) => {
  response.writeHead(200, { 'content-type': 'text/plain' });
  response.end('hello');
};

/** A resolver that answers from a table and counts its calls. */
function tableResolver(answers: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const resolve: Resolver = async (hostname) => {
    calls.push(hostname);
    const entry = answers[hostname];
    const addresses = typeof entry === 'function' ? entry() : (entry ?? []);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

async function refusal(promise: Promise<unknown>): Promise<OutboundRequestError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OutboundRequestError);
  return error as OutboundRequestError;
}

let target: Recorder;
const clients: SafeHttpClient[] = [];
const client = (options: ConstructorParameters<typeof SafeHttpClient>[0]) => {
  const created = new SafeHttpClient(options);
  clients.push(created);
  return created;
};

beforeAll(async () => {
  target = await recorder(ok);
});
afterAll(async () => {
  await Promise.all(clients.map((created) => created.close()));
  await target.close();
});
afterEach(() => {
  target.seen.length = 0;
});

describe('SafeHttpClient: refused destinations', () => {
  it('refuses a loopback server unless the configuration allows it, and NODE_ENV=test alone allows nothing', async () => {
    const plain = client(parseConfig({ NODE_ENV: 'test' }).outbound);
    expect((await refusal(plain.request(`${target.url}/`))).code).toBe('forbidden_url');
    expect(target.seen).toHaveLength(0);

    const optedIn = client(parseConfig({ NODE_ENV: 'test', OUTBOUND_ALLOWED_HOSTS: target.hostPort }).outbound);
    const response = await optedIn.request(`${target.url}/`);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('hello');
    expect(target.seen).toHaveLength(1);
  });

  it('refuses loopback, private, link-local, CGNAT, metadata and IPv6 literals before any connection', async () => {
    const safe = client({ requireHttps: false });
    for (const url of [
      'http://127.0.0.1/',
      'http://[::1]/',
      'http://10.0.0.1/',
      'http://192.168.1.1/',
      'http://172.16.0.1/',
      'http://169.254.169.254/latest/meta-data/iam/',
      'http://100.64.0.1/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:169.254.169.254]/',
      'http://0.0.0.0/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://localhost/',
    ]) {
      const error = await refusal(safe.request(url));
      expect(error.code, url).toBe('forbidden_url');
      expect(error.isRetryable).toBe(false);
    }
  });

  it('checks the addresses a name resolves to, before connecting: private, metadata, CGNAT, unique local, and a mix', async () => {
    // The lookup is called directly: nothing here may ever open a connection to these ranges.
    const { resolve } = tableResolver({
      'private.example.invalid': ['10.1.2.3'],
      'metadata.example.invalid': ['169.254.169.254'],
      'cgnat.example.invalid': ['100.100.100.200'],
      'ula.example.invalid': ['fd00:ec2::254'],
      'mixed.example.invalid': ['93.184.216.34', '172.16.5.4'],
      'public.example.invalid': ['93.184.216.34', '2606:2800:220:1::1'],
    });
    const lookup = guardedLookup(resolve);
    const look = (hostname: string, options: { all?: boolean; family?: number } = { all: true }) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((done) =>
        lookup(hostname, options, (error, address) => done({ error, address })),
      );
    for (const host of [
      'private.example.invalid',
      'metadata.example.invalid',
      'cgnat.example.invalid',
      'ula.example.invalid',
      'mixed.example.invalid',
    ]) {
      const { error } = await look(host);
      expect(error, host).toBeInstanceOf(OutboundRequestError);
      expect((error as OutboundRequestError).code).toBe('forbidden_address');
    }
    expect(await look('public.example.invalid')).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
    });
    expect(await look('public.example.invalid', { family: 6 })).toEqual({ error: null, address: '2606:2800:220:1::1' });
  });

  it('refuses at connect time a name that resolves to loopback, in IPv4, IPv6 and IPv4-mapped forms', async () => {
    const { resolve } = tableResolver({
      'loop.example.invalid': ['127.0.0.1'],
      'loop2.example.invalid': ['127.8.9.10'],
      'mapped.example.invalid': ['::ffff:127.0.0.1'],
      'compatible.example.invalid': ['::7f00:1'],
      'v6loop.example.invalid': ['::1'],
    });
    const safe = client({ requireHttps: false, resolve });
    for (const host of [
      'loop.example.invalid',
      'loop2.example.invalid',
      'mapped.example.invalid',
      'compatible.example.invalid',
      'v6loop.example.invalid',
    ]) {
      const error = await refusal(safe.request(`http://${host}:${target.port}/`));
      expect(error.code, host).toBe('forbidden_address');
    }
    expect(target.seen).toHaveLength(0);
  });

  it('refuses a name whose answer changes between a check and the connect (DNS rebinding)', async () => {
    let answer = 0;
    const { resolve, calls } = tableResolver({ 'rebind.example.invalid': () => (answer++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']) });
    const url = `http://rebind.example.invalid:${target.port}/`;
    // The settings check sees a public address...
    expect((await checkTenantUrlAddresses(url, { requireHttps: false, resolve })).ok).toBe(true);
    // ...and the connection, which resolves again, is refused on what it would actually connect to.
    const error = await refusal(client({ requireHttps: false, resolve }).request(url));
    expect(error.code).toBe('forbidden_address');
    expect(error.message).toMatch(/loopback/);
    expect(calls).toEqual(['rebind.example.invalid', 'rebind.example.invalid']);
    expect(target.seen).toHaveLength(0);
  });

  it('requires https in production, except for an allowlisted host', async () => {
    const production = client({ requireHttps: true, allowedHosts: [target.hostPort] });
    expect((await refusal(production.request('http://hooks.example.invalid/'))).message).toMatch(/must use https/);
    expect((await production.request(`${target.url}/`)).status).toBe(200);
  });
});

describe('SafeHttpClient: redirects', () => {
  let hops: Recorder;
  let other: Recorder;
  beforeAll(async () => {
    other = await recorder((request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ method: request.method }));
    });
    hops = await recorder((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      const to = url.searchParams.get('to');
      const status = Number(url.searchParams.get('status') ?? 302);
      const remaining = Number(url.searchParams.get('chain') ?? 0);
      if (remaining > 0) {
        response.writeHead(302, { location: `/chain?chain=${remaining - 1}` });
        return response.end();
      }
      if (to) {
        response.writeHead(status, { location: to });
        return response.end();
      }
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('landed');
    });
  });
  afterAll(async () => {
    await Promise.all([hops.close(), other.close()]);
  });
  afterEach(() => {
    hops.seen.length = 0;
    other.seen.length = 0;
  });

  const trusting = (extra: Partial<ConstructorParameters<typeof SafeHttpClient>[0]> = {}) =>
    client({ requireHttps: false, allowedHosts: [hops.hostPort, other.hostPort], ...extra });

  it('re-checks every hop: a redirect to a private address, a metadata address or a name resolving inside is refused', async () => {
    // Loopback stands for every forbidden range here, so a regression could only ever reach this machine.
    const { resolve } = tableResolver({ 'inside.example.invalid': ['127.0.0.1'] });
    const safe = trusting({ resolve });
    const notAllowed = `http://127.0.0.1:${target.port}/`; // the target server, which is not on the allowlist
    for (const [to, code] of [
      [notAllowed, 'forbidden_url'],
      ['http://169.254.169.254/latest/meta-data/', 'forbidden_url'],
      [`http://[::ffff:127.0.0.1]:${target.port}/`, 'forbidden_url'],
      [`http://inside.example.invalid:${target.port}/`, 'forbidden_address'],
    ] as const) {
      const error = await refusal(safe.request(`${hops.url}/start?to=${encodeURIComponent(to)}`));
      expect(error.code, to).toBe(code);
    }
    expect(hops.seen).toHaveLength(4);
    expect(target.seen).toHaveLength(0);
  });

  it('follows at most five redirects', async () => {
    const safe = trusting();
    const five = await safe.request(`${hops.url}/chain?chain=5`);
    expect(five).toMatchObject({ status: 200, redirects: 5 });
    expect(five.body.toString()).toBe('landed');
    expect((await refusal(safe.request(`${hops.url}/chain?chain=6`))).code).toBe('too_many_redirects');
  });

  it('drops credentials when a redirect leaves the origin, and keeps them within it', async () => {
    const safe = trusting();
    const headers = { authorization: 'Bearer tenant-key', 'x-api-key': 'also-secret', 'x-trace': 'kept' };
    await safe.request(`${hops.url}/start?status=307&to=${encodeURIComponent(`${other.url}/landing`)}`, {
      headers,
      sensitiveHeaders: ['x-api-key'],
    });
    expect(other.seen[0].headers).not.toHaveProperty('authorization');
    expect(other.seen[0].headers).not.toHaveProperty('x-api-key');
    expect(other.seen[0].headers['x-trace']).toBe('kept');

    await safe.request(`${hops.url}/start?to=${encodeURIComponent('/same-origin')}`, { headers });
    expect(hops.seen.at(-1)).toMatchObject({
      url: '/same-origin',
      headers: expect.objectContaining({ authorization: 'Bearer tenant-key' }),
    });
  });

  it('turns a POST into a GET on 303 and repeats it with its body on 307', async () => {
    const safe = trusting();
    const landing = encodeURIComponent(`${other.url}/landing`);
    const after303 = await safe.request(`${hops.url}/start?status=303&to=${landing}`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(JSON.parse(after303.body.toString())).toEqual({ method: 'GET' });
    await safe.request(`${hops.url}/start?status=307&to=${landing}`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(other.seen.at(-1)).toMatchObject({ method: 'POST', body: '{"a":1}' });
  });

  it('refuses every redirect when told to (what SDK clients carrying keys use)', async () => {
    const error = await refusal(trusting().request(`${hops.url}/start?to=%2Fsame`, { maxRedirects: 0 }));
    expect(error.code).toBe('too_many_redirects');
  });
});

describe('SafeHttpClient: caps', () => {
  let server: Recorder;
  const timers = new Set<NodeJS.Timeout>();
  beforeAll(async () => {
    server = await recorder((request, response) => {
      const megabytes = (count: number) => Buffer.alloc(count * 1024 * 1024, 120);
      switch (request.url) {
        case '/declared-large':
          response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(2 * 1024 * 1024) });
          return response.end(megabytes(2));
        case '/chunked-large':
          response.writeHead(200, { 'content-type': 'text/plain' });
          for (let index = 0; index < 8; index += 1) response.write(Buffer.alloc(256 * 1024, 120));
          return response.end();
        case '/hang':
          return; // headers never come
        case '/trickle': {
          response.writeHead(200, { 'content-type': 'text/plain' });
          const timer = setInterval(() => response.write('.'), 50);
          timers.add(timer);
          response.on('close', () => clearInterval(timer));
          return;
        }
        case '/binary':
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          return response.end('bytes');
        default:
          response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return response.end('<p>hi</p>');
      }
    });
  });
  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    await server.close();
  });

  const capped = () => client({ requireHttps: false, allowedHosts: [server.hostPort], maxResponseBytes: 1024 * 1024, timeoutMs: 400 });

  it('refuses a body over the size cap, declared or streamed', async () => {
    const safe = capped();
    expect((await refusal(safe.request(`${server.url}/declared-large`))).code).toBe('response_too_large');
    expect((await refusal(safe.request(`${server.url}/chunked-large`))).code).toBe('response_too_large');
    const response = await safe.fetch(`${server.url}/chunked-large`);
    expect(response.status).toBe(200);
    expect((await refusal(response.text())).code).toBe('response_too_large');
  });

  it('caps the total time: a server that never answers, and one that never finishes its body', async () => {
    const safe = capped();
    for (const path of ['/hang', '/trickle']) {
      const started = performance.now();
      const error = await refusal(safe.request(`${server.url}${path}`));
      expect(error.code, path).toBe('timeout');
      expect(error.isRetryable).toBe(true);
      expect(performance.now() - started, path).toBeLessThan(3_000);
    }
  });

  it("leaves the caller's own abort as the caller's AbortError", async () => {
    const controller = new AbortController();
    const pending = client({ requireHttps: false, allowedHosts: [server.hostPort] }).fetch(`${server.url}/hang`, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('accepts only the allowed content types when given', async () => {
    const safe = capped();
    const page = await safe.request(`${server.url}/page`, { allowedContentTypes: ['text/html'] });
    expect(page.body.toString()).toBe('<p>hi</p>');
    expect((await safe.request(`${server.url}/page`, { allowedContentTypes: ['text/*'] })).status).toBe(200);
    expect((await refusal(safe.request(`${server.url}/binary`, { allowedContentTypes: ['text/html', 'text/*'] }))).code).toBe(
      'content_type',
    );
  });
});

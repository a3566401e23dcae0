/**
 * Secrets never reach a log line: credential field names at any depth, values in arrays, Headers instances, text
 * (URLs, raw header blocks, quoted pairs), and the errors of the Twilio, OpenAI and Gemini SDKs as pino prints them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { GoogleGenerativeAI, GoogleGenerativeAIFetchError } from '@google/generative-ai';
import fc from 'fast-check';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { createTwilioClient } from '../src/whatsapp/twilio-client';

/** A logger whose JSON lines are kept as text (to search for secrets anywhere) and parsed. */
function capturingLogger() {
  const text: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('info', stream), text, lines: () => text.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** A description of a value that changes if anything reachable from it changes (cycles, errors and Headers included). */
function snapshot(value: unknown, seen = new Map<object, number>()): string {
  if (typeof value !== 'object' || value === null) return typeof value === 'string' ? JSON.stringify(value) : String(value);
  if (seen.has(value)) return `#${seen.get(value)}`;
  seen.set(value, seen.size);
  if (value instanceof Headers) return `Headers(${JSON.stringify([...value.entries()])})`;
  const own = Object.keys(value).map((key) => `${key}:${snapshot((value as Record<string, unknown>)[key], seen)}`);
  if (value instanceof Error)
    return `${value.constructor.name}(${JSON.stringify(value.message)},cause:${snapshot(value.cause, seen)},${own.join(',')})`;
  return `${Array.isArray(value) ? 'A' : 'O'}{${own.join(',')}}`;
}

const SECRET = 'sk-live-0123456789abcdefDO-NOT-LOG';

describe('the process logger (secrets at any depth)', () => {
  it('censors credential field names at any depth, whatever their case and spelling', () => {
    const { logger, text, lines } = capturingLogger();
    const deep = { a: { b: { c: { d: { e: { f: { password: SECRET } } } } } } };
    logger.info(
      {
        tenant: {
          opened: { twilioAuthToken: SECRET, openaiApiKey: SECRET, geminiApiKey: SECRET, providerApiKeys: { groq: SECRET } },
          encryptedCredentials: SECRET,
        },
        request: { headers: { 'X-Goog-Api-Key': SECRET, 'x-api-key': SECRET, COOKIE: SECRET, 'Proxy-Authorization': SECRET } },
        oauth: { client_secret: SECRET, refresh_token: SECRET, accessToken: SECRET, privateKey: SECRET },
        deep,
      },
      'nested',
    );
    expect(text.join('\n')).not.toContain(SECRET);
    expect(lines()[0]).toMatchObject({
      tenant: {
        opened: { twilioAuthToken: '[redacted]', openaiApiKey: '[redacted]', geminiApiKey: '[redacted]', providerApiKeys: '[redacted]' },
        encryptedCredentials: '[redacted]',
      },
      deep: { a: { b: { c: { d: { e: { f: { password: '[redacted]' } } } } } } },
    });
  });

  it('keeps token counts, ids and fingerprints that only mention a credential', () => {
    const { logger, lines } = capturingLogger();
    const fields = {
      inputTokens: 1200,
      promptTokenCount: 12,
      max_tokens: 256,
      apiKeyId: 'k1',
      credentialFingerprint: 'fp1',
      tokenizer: 'o200k_base',
    };
    logger.info({ usage: fields }, 'usage');
    expect(lines()[0].usage).toEqual(fields);
  });

  it('censors secrets in arrays: under a secret name, in objects, in header pairs and flat raw headers', () => {
    const { logger, text, lines } = capturingLogger();
    logger.info(
      {
        keys: [{ apiKey: SECRET, id: 'k1' }],
        credentials: [SECRET, SECRET],
        pairs: [
          ['Authorization', `Bearer ${SECRET}`],
          ['Accept', 'text/xml'],
        ],
        rawHeaders: ['Content-Type', 'application/json', 'Cookie', SECRET, 'X-Goog-Api-Key', SECRET],
        fields: ['twilioAuthToken', 'systemPrompt'],
      },
      'arrays',
    );
    expect(text.join('\n')).not.toContain(SECRET);
    expect(lines()[0]).toMatchObject({
      keys: [{ apiKey: '[redacted]', id: 'k1' }],
      credentials: '[redacted]',
      pairs: [
        ['Authorization', '[redacted]'],
        ['Accept', 'text/xml'],
      ],
      rawHeaders: ['Content-Type', 'application/json', 'Cookie', '[redacted]', 'X-Goog-Api-Key', '[redacted]'],
      // A list of field names is not a list of headers: nothing in it is a secret.
      fields: ['twilioAuthToken', 'systemPrompt'],
    });
  });

  it('prints a Headers instance as its entries (JSON would print {}), secret entries censored', () => {
    const { logger, text, lines } = capturingLogger();
    logger.info(
      { headers: new Headers({ authorization: `Bearer ${SECRET}`, 'x-goog-api-key': SECRET, 'x-request-id': 'req_1' }) },
      'headers',
    );
    expect(text.join('\n')).not.toContain(SECRET);
    expect(lines()[0].headers).toEqual({ authorization: '[redacted]', 'x-goog-api-key': '[redacted]', 'x-request-id': 'req_1' });
  });

  it('censors credentials inside text: key= and token parameters, header lines, quoted pairs, schemes and key shapes', () => {
    const { logger, text, lines } = capturingLogger();
    logger.info(
      {
        url: `https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=AIza${'x'.repeat(35)}&alt=sse`,
        link: new URL(`https://example.test/callback?access_token=${SECRET}&state=s1`),
        form: `Body=hello&AuthToken=${SECRET}`,
        head: `POST /v1/chat HTTP/1.1\r\nHost: api.test\r\nAuthorization: Basic ${Buffer.from(`AC1:${SECRET}`).toString('base64')}\r\n\r\n`,
        json: `{"model":"gpt-4o","api_key":"${SECRET}"}`,
        inspected: `{ apiKey: '${SECRET}', baseURL: 'https://api.test' }`,
        prose: `upstream said: Incorrect API key provided: ${SECRET}`,
      },
      'text',
    );
    const output = text.join('\n');
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain('AIzaxxxx');
    expect(lines()[0]).toMatchObject({
      url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=[redacted]&alt=sse',
      link: 'https://example.test/callback?access_token=[redacted]&state=s1',
      form: 'Body=hello&AuthToken=[redacted]',
      json: '{"model":"gpt-4o","api_key":"[redacted]"}',
    });
  });

  it('censors the message pino takes from an error when the call gives none, and keeps the error type', () => {
    const { logger, text, lines } = capturingLogger();
    const error = new TypeError(`fetch failed for https://api.test/v1?key=${SECRET}`);
    logger.error(error);
    logger.error({ err: error });
    expect(text.join('\n')).not.toContain(SECRET);
    for (const line of lines()) {
      expect(line.msg).toBe('fetch failed for https://api.test/v1?key=[redacted]');
      expect(line.err).toMatchObject({ type: 'TypeError', message: 'fetch failed for https://api.test/v1?key=[redacted]' });
    }
  });

  it('censors the messages and stacks of causes, and secrets in interpolated arguments', () => {
    const { logger, text } = capturingLogger();
    const cause = new Error(`connect to https://api.test/?api_key=${SECRET} refused`);
    logger.error({ err: new Error('request failed', { cause }) }, 'failed');
    logger.warn('retrying %s with %o', `Bearer ${SECRET}`, { headers: { authorization: SECRET } });
    expect(text.join('\n')).not.toContain(SECRET);
    expect(text[0]).toContain('request failed');
  });

  it('cuts references back to an enclosing object, and no secret escapes through them', () => {
    const { logger, text, lines } = capturingLogger();
    const tenant: Record<string, unknown> = { name: 'Acme', authToken: SECRET };
    tenant.self = tenant;
    tenant.settings = { owner: tenant, items: [tenant] };
    logger.info({ tenant }, 'cycle');
    expect(text.join('\n')).not.toContain(SECRET);
    expect(lines()[0]).toMatchObject({
      tenant: { name: 'Acme', authToken: '[redacted]', self: '[Circular]', settings: { owner: '[Circular]', items: ['[Circular]'] } },
    });
  });

  it('logs sockets, requests and other event emitters as their class name', () => {
    const { logger, lines } = capturingLogger();
    const request = new http.ClientRequest({ host: '127.0.0.1', port: 1, headers: { authorization: `Basic ${SECRET}` } });
    request.on('error', () => undefined);
    logger.info({ request }, 'emitter');
    request.destroy();
    expect(lines()[0].request).toBe('[ClientRequest]');
  });

  it('never changes the logged objects', () => {
    const { logger } = capturingLogger();
    const error = Object.assign(new Error(`key=${SECRET}`), {
      headers: new Headers({ authorization: SECRET }),
      config: { headers: { Authorization: SECRET } },
    });
    const value = { tenant: { authToken: SECRET, list: [{ apiKey: SECRET }], url: `https://x.test/?key=${SECRET}` }, err: error };
    const before = snapshot(value);
    logger.info(value, 'copy');
    logger.error(error);
    expect(snapshot(value)).toBe(before);
    expect(value.tenant.authToken).toBe(SECRET);
  });
});

describe('the process logger (SDK errors)', () => {
  let server: http.Server;
  let origin: string;
  const requests: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];

  beforeAll(async () => {
    // Answers every request as a provider refusing a key: 401 with a cookie and a request id.
    server = http.createServer((request, response) => {
      requests.push({ url: request.url ?? '', headers: request.headers });
      response.writeHead(401, { 'content-type': 'application/json', 'set-cookie': `session=${SECRET}`, 'x-request-id': 'req_1' });
      response.end(
        JSON.stringify({
          error: {
            code: 401,
            message: 'API key not valid. Please pass a valid API key.',
            status: 'UNAUTHENTICATED',
            type: 'invalid_request_error',
          },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("censors OpenAI's error: its response headers (a Headers instance) and the key echoed in its message", async () => {
    const apiKey = `sk-proj-${'a1'.repeat(20)}`;
    const client = new OpenAI({ apiKey, baseURL: `${origin}/v1`, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    Object.assign(error as object, { message: `401 Incorrect API key provided: ${apiKey}` });
    const { logger, text, lines } = capturingLogger();
    logger.error({ err: error }, 'openai refused');
    expect(requests.at(-1)?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(text.join('\n')).not.toContain(apiKey);
    expect(text.join('\n')).not.toContain(SECRET);
    expect(lines()[0].err).toMatchObject({
      type: 'AuthenticationError',
      status: 401,
      headers: { 'set-cookie': '[redacted]', 'x-request-id': 'req_1' },
    });
  });

  it("censors Gemini's error: the key= of the URL in its message and stack", async () => {
    const apiKey = `AIza${'G'.repeat(35)}`;
    // A base URL carrying the key as a query parameter (how Google's REST API also takes it); the SDK puts the
    // request URL in its error message.
    const model = new GoogleGenerativeAI(apiKey).getGenerativeModel(
      { model: 'gemini-2.0-flash' },
      { baseUrl: `${origin}/gateway?key=${apiKey}#` },
    );
    const error = await model.generateContent('hi').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GoogleGenerativeAIFetchError);
    expect((error as Error).message).toContain(`key=${apiKey}`);
    const { logger, text, lines } = capturingLogger();
    logger.error({ err: error }, 'gemini refused');
    logger.error(error as Error);
    expect(text.join('\n')).not.toContain(apiKey);
    expect(lines()[0].err).toMatchObject({ type: 'GoogleGenerativeAIFetchError', status: 401 });
    expect(lines()[1].msg).toContain('key=[redacted]');
  });

  it("censors the twilio package's network error: axios's request headers (Basic credentials) and its request object", async () => {
    const accountSid = `AC${'0'.repeat(32)}`;
    const authToken = 'f'.repeat(32);
    // Port 1 on loopback refuses the connection: the error carries the request as it was about to be sent.
    const client = createTwilioClient(accountSid, authToken, 'http://127.0.0.1:1', 5_000);
    const error = await client.messages
      .create({ to: 'whatsapp:+15550001111', from: 'whatsapp:+15550002222', body: 'hello' })
      .catch((caught: unknown) => caught);
    const basic = Buffer.from(`${accountSid}:${authToken}`).toString('base64');
    expect(JSON.stringify((error as { config?: unknown }).config)).toContain(basic);
    const { logger, text, lines } = capturingLogger();
    logger.error({ err: error }, 'twilio unreachable');
    expect(text.join('\n')).not.toContain(basic);
    expect(text.join('\n')).not.toContain(authToken);
    expect(lines()[0].err).toMatchObject({
      type: 'AxiosError',
      code: 'ECONNREFUSED',
      config: { headers: { Authorization: '[redacted]' }, url: `http://127.0.0.1:1/2010-04-01/Accounts/${accountSid}/Messages.json` },
    });
  });
});

/** A generated value, with the secrets placed in it and the ordinary values that must still be printed. */
interface Generated {
  value: unknown;
  secrets: string[];
  visible: string[];
}

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const secretValue = hex(24).map((digits) => `Qz${digits}`);
const ordinaryValue = hex(12).map((digits) => `v${digits}`);

const SECRET_NAMES = [
  'authToken',
  'twilioAuthToken',
  'openaiApiKey',
  'geminiApiKey',
  'providerApiKeys',
  'apiKey',
  'api_key',
  'x-api-key',
  'x-goog-api-key',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'clientSecret',
  'client_secret',
  'accessToken',
  'refresh_token',
  'x-twilio-signature',
  'x-tenant-api-key',
  'credentials',
  'encryptedCredentials',
  'privateKey',
  'auth',
  'webhookSecret',
  'key',
];
const SECRET_HEADERS = ['authorization', 'cookie', 'x-api-key', 'x-goog-api-key', 'x-twilio-signature', 'x-tenant-api-key'];
const ORDINARY_NAMES = [
  'tenantId',
  'model',
  'inputTokens',
  'promptTokenCount',
  'apiKeyId',
  'credentialFingerprint',
  'url',
  'items',
  'data',
  'details',
  'nested',
  'status',
];

/** A secret name in one of the spellings code and SDKs use: as written, upper case, lower case. */
const secretName = fc
  .tuple(
    fc.constantFrom(...SECRET_NAMES),
    fc.constantFrom<(name: string) => string>(
      (name) => name,
      (name) => name.toUpperCase(),
      (name) => name.toLowerCase(),
    ),
  )
  .map(([name, spell]) => spell(name));

/** Text carrying a secret the way SDKs and servers print one. */
const secretText: fc.Arbitrary<Generated> = fc.tuple(secretValue, fc.integer({ min: 0, max: 5 })).map(([secret, form]) => {
  const texts = [
    `https://generativelanguage.googleapis.com/v1beta/models/gemini:generateContent?key=${secret}&alt=sse`,
    `grant_type=refresh&access_token=${secret}`,
    `POST /v1 HTTP/1.1\r\nAuthorization: Bearer ${secret}\r\nAccept: */*\r\n`,
    `{"model":"x","apiKey":"${secret}"}`,
    `Invalid options { apiKey: '${secret}', timeout: 5 }`,
    `Incorrect API key provided: sk-${secret}`,
  ];
  return { value: texts[form], secrets: [secret], visible: [] };
});

const ordinaryLeaf: fc.Arbitrary<Generated> = fc.oneof(
  ordinaryValue.map((value): Generated => ({ value, secrets: [], visible: [value] })),
  fc.integer().map((value): Generated => ({ value, secrets: [], visible: [] })),
  fc.constant<Generated>({ value: null, secrets: [], visible: [] }),
);

/** Every string in a generated value counts as a secret once it sits under a secret name. */
const allSecret = (generated: Generated): Generated => ({
  value: generated.value,
  secrets: [...generated.secrets, ...generated.visible],
  visible: [],
});

const combine = (parts: Generated[]): Pick<Generated, 'secrets' | 'visible'> => ({
  secrets: parts.flatMap((part) => part.secrets),
  visible: parts.flatMap((part) => part.visible),
});

/** A secret under a secret name `depth` objects down. */
const deepSecret: fc.Arbitrary<Generated> = fc
  .tuple(fc.integer({ min: 1, max: 12 }), secretName, secretValue)
  .map(([depth, name, secret]) => {
    let value: unknown = { [name]: secret };
    for (let level = 0; level < depth; level += 1) value = { [`level${level}`]: value };
    return { value, secrets: [secret], visible: [] };
  });

const headersValue: fc.Arbitrary<Generated> = fc
  .tuple(fc.constantFrom(...SECRET_HEADERS), secretValue, ordinaryValue)
  .map(([name, secret, ordinary]) => ({
    value: new Headers([
      [name, secret],
      ['x-request-id', ordinary],
    ]),
    secrets: [secret],
    visible: [ordinary],
  }));

const headerPairs: fc.Arbitrary<Generated> = fc
  .tuple(fc.constantFrom('Authorization', 'Cookie', 'X-Api-Key', 'X-Goog-Api-Key'), secretValue, fc.boolean())
  .map(([name, secret, flat]) => ({
    value: flat
      ? ['Accept', 'application/json', name, secret]
      : [
          [name, secret],
          ['Accept', 'application/json'],
        ],
    secrets: [secret],
    visible: [],
  }));

const { node } = fc.letrec<{ node: Generated; object: Generated; array: Generated; error: Generated }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 6, depthIdentifier: 'log-value' },
    ordinaryLeaf,
    secretText,
    deepSecret,
    headersValue,
    headerPairs,
    tie('object'),
    tie('array'),
    tie('error'),
  ),
  object: fc
    .array(
      fc.oneof(
        fc.tuple(fc.constantFrom(...ORDINARY_NAMES), tie('node')),
        fc.tuple(
          secretName,
          fc.oneof(
            secretValue.map((secret): Generated => ({ value: secret, secrets: [secret], visible: [] })),
            tie('node').map(allSecret),
          ),
        ),
      ),
      { maxLength: 4 },
    )
    .map((entries) => {
      // Later entries win a repeated name, as in the object literal.
      const byName = new Map(entries);
      return { value: Object.fromEntries([...byName].map(([name, part]) => [name, part.value])), ...combine([...byName.values()]) };
    }),
  array: fc.array(tie('node'), { maxLength: 4 }).map((parts) => ({ value: parts.map((part) => part.value), ...combine(parts) })),
  error: fc
    .tuple(
      fc.constantFrom(Error, TypeError, RangeError),
      fc.oneof(
        ordinaryValue.map((text): Generated => ({ value: text, secrets: [], visible: [text] })),
        secretText,
      ),
      fc.option(secretText, { nil: undefined }),
      fc.array(fc.tuple(fc.constantFrom('status', 'details', 'data'), tie('node')), { maxLength: 2 }),
      fc.option(fc.tuple(secretName, secretValue), { nil: undefined }),
      fc.option(headersValue, { nil: undefined }),
    )
    .map(([ErrorClass, message, causeMessage, fields, secretField, headers]) => {
      const error = new ErrorClass(message.value as string, causeMessage ? { cause: new Error(causeMessage.value as string) } : undefined);
      const parts: Generated[] = [message, ...(causeMessage ? [causeMessage] : [])];
      for (const [name, part] of new Map(fields)) {
        (error as unknown as Record<string, unknown>)[name] = part.value;
        parts.push(part);
      }
      if (secretField) {
        (error as unknown as Record<string, unknown>)[secretField[0]] = secretField[1];
        parts.push({ value: secretField[1], secrets: [secretField[1]], visible: [] });
      }
      if (headers) {
        Object.assign(error, { headers: headers.value });
        parts.push(headers);
      }
      return { value: error, ...combine(parts) };
    }),
}));

/** Plain objects and arrays of a value (not inside errors or Headers), to hang references back on. */
function containers(value: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || value instanceof Error || value instanceof Headers) return found;
  if (!Array.isArray(value)) found.push(value as Record<string, unknown>);
  for (const child of Object.values(value)) containers(child, found);
  return found;
}

describe('the process logger (property: no generated secret is ever printed)', () => {
  it('logs random nested objects, arrays, errors and Headers with secrets under secret names, and prints none of the secrets', () => {
    fc.assert(
      fc.property(node, fc.array(fc.nat(), { maxLength: 3 }), (generated, backReferences) => {
        const root: Record<string, unknown> = { line: generated.value };
        // References back to the root from a few of its objects: cycles, as request and socket objects have.
        const objects = containers(generated.value);
        for (const pick of backReferences) if (objects.length > 0) objects[pick % objects.length].back = root;
        const before = snapshot(root);
        const { logger, text } = capturingLogger();
        logger.info(root, 'generated');
        logger.child({ bound: generated.value }).warn('bound');
        if (generated.value instanceof Error) logger.error(generated.value);
        const output = text.join('\n');
        for (const secret of generated.secrets) expect(output).not.toContain(secret);
        for (const ordinary of generated.visible) expect(output).toContain(ordinary);
        expect(snapshot(root)).toBe(before);
      }),
      { seed: 20261202, numRuns: 400 },
    );
  });
});

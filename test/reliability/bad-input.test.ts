/**
 * Bad input, property-based (fast-check, seeded by the run's seed: test/support/seed-setup.ts): random and malformed
 * form bodies, JSON bodies, headers, query strings, NUL and lone surrogates, huge and tiny dates and cursors, huge
 * numbers and wrong types against every endpoint the OpenAPI document lists, the Twilio webhook and the status
 * callback included (signed, so the input reaches storage). No 5xx, every error in the one JSON shape, every
 * correctly signed message stored, nothing stored for rejected requests, nothing of one tenant visible to another.
 */
import type http from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { createHttpServer } from '../../src/http/http-server';
import { createApiKey, createTenant, inboundParams, messageSid, postInbound, signTwilio, type TenantFixture } from '../support/factories';
import { answeredInteraction } from '../support/correction-factories';
import { feedbackTokenFor } from '../support/feedback-factories';
import { createTestContext, type TestContext } from '../support/test-context';

/** An id that names nothing. */
const SOME_UUID = '00000000-0000-4000-8000-000000000000';

/** Text that tenant B owns; it must never appear in a response to tenant A. */
const SECRET_OF_B = 'zebra-secret-of-tenant-b';

type Method = 'get' | 'post' | 'patch' | 'delete';

/** Endpoints known to the app; the OpenAPI document, when served, adds every documented route. */
const KNOWN_ENDPOINTS: Array<{ method: Method; path: string }> = [
  { method: 'get', path: '/v1/bot/conversations' },
  { method: 'get', path: '/v1/bot/conversations/{id}' },
  { method: 'get', path: '/healthz' },
  { method: 'get', path: '/readyz' },
  { method: 'get', path: '/v1/simulator/replies' },
];

// ---------------------------------------------------------------------------------------------------------------
// Hostile values.

const unicodeText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '%',
    '%%',
    '\ud800',
    '😀'.repeat(20),
    '<script>',
    "' OR 1=1 --",
    '../../etc/passwd',
    '{}',
    '[]',
    'null',
    '-1',
    '1e309',
    'NaN',
  ),
  fc.integer().map(String),
  fc.uuid().map(String),
);
const hugeText = fc.constantFrom('x'.repeat(70_000), 'é'.repeat(40_000));

/** Text PostgreSQL cannot store or that is not Unicode, mixed into ordinary text: NUL, lone surrogates, both. */
const unstorableText = fc
  .tuple(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0000\u0000', '\ud83d', 'a\u0000😀\udc00'),
    fc.string({ maxLength: 30 }),
  )
  .map(([before, bad, after]) => `${before}${bad}${after}`);
const hostileText = fc.oneof({ weight: 3, arbitrary: unstorableText }, { weight: 2, arbitrary: unicodeText });

/** Days, months and instants around and far beyond 1970..9999, and a few that are not dates at all. */
const hostileDate = fc.oneof(
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00+14:00',
    '1969-12-31T23:59:59Z',
    '1970-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999Z',
    '9999-12-31T23:59:59-14:00',
    '+275760-09-13T00:00:00Z',
    '-271821-04-20T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '0000-01-01',
    '1969-12-31',
    '1970-01-01',
    '9999-12-31',
    '+010000-01-01',
    '0000-01',
    '1969-12',
    '9999-12',
    '275760-09',
  ),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 7)),
);

/** A cursor in the server's own format (base64url of "micros.uuid") carrying any position, tiny or huge. */
const hostileCursor = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(
        '0',
        '-1',
        '253402300799999999',
        '253402300800000000',
        '9223372036854775807',
        '-9223372036854775808',
        '99999999999999999999',
      ),
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
    ),
    fc.uuid(),
  )
  .map(([micros, id]) => Buffer.from(`${micros}.${id}`, 'utf8').toString('base64url'));

/** Numbers as query text: huge, tiny, fractional, not finite, not decimal. */
const hostileNumberText = fc.oneof(
  fc.constantFrom(
    '1e309',
    '-1e309',
    '9007199254740993',
    '99999999999999999999',
    '-0',
    '0x10',
    '1.5',
    '4.5',
    '4.55',
    'NaN',
    'Infinity',
    '1e-400',
    ' 7 ',
  ),
  fc.double().map(String),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
);

/** Days at the edges of what a date can be (year 0, 1969/1970, the end of 9999), and any day of 0000..9999. */
const anchorDay = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('0000-01-01', '0000-06-15', '0000-12-31') },
  { weight: 3, arbitrary: fc.constantFrom('9999-12-01', '9999-12-31') },
  { weight: 2, arbitrary: fc.constantFrom('1969-12-31', '1970-01-01') },
  {
    weight: 1,
    arbitrary: fc
      .date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
      .map((date) => date.toISOString().slice(0, 10)),
  },
);

/** The day `offset` days after `day`, written as JavaScript writes it (a year past 9999 gets six digits and a sign). */
const dayAfter = (day: string, offset: number) => new Date(Date.parse(`${day}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

interface QueryParameter {
  name: string;
  /** The parameter's JSON Schema format (date-time for instants). */
  format?: string;
  /** Its allowed values, when the schema lists them: a valid value lets the request reach a hostile neighbour. */
  values?: string[];
}

/**
 * A query parameter's value: mostly the kind its name or format suggests (the dates of one case share an anchor
 * day, `from` a little after it and `to` a few weeks after, so a range is a plausible one), sometimes any kind, or
 * the parameter repeated.
 */
function hostileQueryValue(parameter: QueryParameter, anchor: string, offsets: [number, number]): fc.Arbitrary<string | string[]> {
  const { name } = parameter;
  const day = dayAfter(anchor, name === 'to' ? offsets[1] : offsets[0]);
  const anchored = (value: fc.Arbitrary<string>) => fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: hostileDate });
  const suggested = parameter.values
    ? fc.oneof(fc.constantFrom(...parameter.values), hostileText)
    : parameter.format === 'date-time'
      ? anchored(fc.constantFrom(`${day}T00:00:00Z`, `${day}T23:59:59.999999-14:00`))
      : name === 'month'
        ? anchored(fc.constant(day.slice(0, -3)))
        : /^(from|to)$/.test(name)
          ? anchored(fc.constant(day))
          : name === 'cursor'
            ? hostileCursor
            : /^(limit|days|min_quality|window_minutes|after)$/.test(name)
              ? hostileNumberText
              : hostileText;
  const anyKind = fc.oneof(
    hostileText,
    hostileDate,
    hostileCursor,
    hostileNumberText,
    hugeText.map((text) => text.slice(0, 6000)),
  );
  return fc.oneof(
    { weight: 7, arbitrary: suggested },
    { weight: 2, arbitrary: anyKind },
    { weight: 1, arbitrary: fc.array(hostileText, { minLength: 2, maxLength: 3 }) },
  );
}

/** A JSON value for a body field: unstorable text, huge and odd numbers, dates, wrong types. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileText },
  { weight: 1, arbitrary: hugeText },
  {
    weight: 2,
    arbitrary: fc.oneof(fc.double(), fc.constantFrom(1e308, -1, 0, 4.5, 4.55, 0.1 + 0.2, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER)),
  },
  { weight: 1, arbitrary: hostileDate },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.array(hostileText, { maxLength: 3 }),
      fc.dictionary(hostileText, hostileText, { maxKeys: 3 }),
    ),
  },
);

/** Raw path segments that are not valid percent-encoding (sent as they are). */
const MALFORMED_SEGMENTS = ['%', '%ZZ', '%E0%A4%A', '%ED%A0%80', '%00', '..%2F..', '%C0%AF'];

/** Percent-encodes a path segment; a lone surrogate becomes a malformed escape, which the server must also survive. */
function encodePathSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80%ZZ';
  }
}

function expectErrorShape(response: request.Response, what = ''): void {
  expect(response.status, `${what} answered ${response.status}`).toBeLessThan(500);
  if (response.status >= 400) {
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(typeof response.body.error?.code).toBe('string');
    expect(typeof response.body.error?.message).toBe('string');
    expect(Object.keys(response.body)).toEqual(['error']);
  }
}

/**
 * One case per known kind of bad query value that applies to the operation (year 0 in every date, the months
 * around the end of 9999, a cursor at 2^63 - 1, NUL in free text, a number beyond double): they run first, every
 * run, whatever the seed; the random cases explore around them.
 */
function queryExamples(operation: { query: QueryParameter[] }): Array<Array<[string, string]>> {
  const examples: Array<Array<[string, string]>> = [];
  const dates = operation.query.filter((parameter) => parameter.format === 'date-time' || /^(from|to)$/.test(parameter.name));
  if (dates.length > 0) {
    examples.push(
      dates.map(({ name, format }) => [name, `0000-01-0${name === 'to' ? 5 : 1}${format === 'date-time' ? 'T00:00:00Z' : ''}`]),
    );
  }
  for (const { name, format, values } of operation.query) {
    if (name === 'month') examples.push([[name, '0000-01']], [[name, '9999-12']]);
    else if (name === 'cursor') examples.push([[name, Buffer.from(`9223372036854775807.${SOME_UUID}`).toString('base64url')]]);
    else if (/^(limit|days|min_quality|window_minutes|after)$/.test(name)) examples.push([[name, '1e309']]);
    else if (!values && !format && !/^(from|to)$/.test(name)) examples.push([[name, 'before\u0000after']]);
  }
  return examples;
}

/** One case per text field of a valid body with NUL, and with a lone surrogate, and NUL inside a file to import. */
function bodyExamples(operation: { path: string }, base: Record<string, unknown>): Array<Record<string, unknown>> {
  const examples: Array<Record<string, unknown>> = [];
  for (const [name, value] of Object.entries(base)) {
    if (typeof value === 'string') examples.push({ [name]: `${value}\u0000` }, { [name]: `${value}\ud800` });
    else if (Array.isArray(value)) examples.push({ [name]: ['a\u0000b'] });
  }
  if (operation.path === '/v1/bot/knowledge/import/') {
    examples.push(
      { format: 'csv', content: 'question,answer\n"a\u0000b",c' },
      { format: 'json', content: JSON.stringify([{ question: 'a\u0000b', answer: 'c' }]) },
    );
  }
  return examples;
}

interface DocumentedOperation {
  method: Method;
  path: string;
  query: QueryParameter[];
  jsonBody: string[] | null;
}

describe('bad input never breaks Parley', () => {
  let context: TestContext;
  let tenantA: TenantFixture;
  let tenantB: TenantFixture;
  let keyA: string;
  let endpoints = KNOWN_ENDPOINTS;
  let operations: DocumentedOperation[] = [];
  let idsOfB: string[] = [];
  /** Tenant A's own resources, so requests get past "not found" to validation and storage. */
  let own: {
    interactionId: string;
    conversationId: string;
    knowledgeId: string;
    correctionId: string;
    feedbackId: string;
    replySid: string;
  };
  /** The app behind a real HTTP server with the production client-error handler, as server.ts runs it. */
  let server: http.Server;

  const countRows = async () => {
    const [row] = await context.database.dataSource.query(
      `SELECT (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM customers)::int AS customers,
              (SELECT count(*) FROM conversations)::int AS conversations, (SELECT count(*) FROM knowledge_entries)::int AS knowledge`,
    );
    return row as Record<string, number>;
  };

  /** A valid body per documented JSON operation; a hostile field is then put in. Unlisted ones start empty. */
  const validBody = (operation: DocumentedOperation): unknown => {
    const bodies: Record<string, unknown> = {
      'post /v1/bot/conversations/{id}/messages/': { body: 'We are on it.' },
      'post /v1/bot/corrections/': {
        customer_message: 'Sundays?',
        bot_response: 'No.',
        human_response: 'Yes.',
        correction_reason: 'Policy',
        correction_category: 'other',
      },
      'patch /v1/bot/corrections/{id}/': { human_response: 'Yes, on Sundays.', correction_reason: 'Policy' },
      'post /v1/bot/corrections/{id}/approve/': { approved: true, quality_score: 4.5 },
      'post /v1/bot/feedback/submit/': {
        interaction_id: own.interactionId,
        feedback_token: feedbackTokenFor(context, tenantA.tenant.id, own.interactionId),
        rating: 'helpful',
        feedback_text: 'Clear',
      },
      'post /v1/bot/interactions/{id}/events/': { type: 'purchase', value: '12.50', currency: 'EUR' },
      'post /v1/bot/knowledge/': { question: 'Do you ship abroad?', answer: 'Yes.', tags: ['shipping'] },
      'patch /v1/bot/knowledge/{id}/': { answer: 'Yes, to the EU.', tags: ['shipping'] },
      'post /v1/bot/knowledge/import/': { format: 'csv', content: 'question,answer,tags\nReturns?,Within 30 days,returns' },
    };
    return structuredClone(bodies[`${operation.method} ${operation.path}`] ?? {});
  };

  /** The path with tenant A's id of the resource it names. */
  const ownPath = (path: string) => {
    const id = path.startsWith('/v1/bot/knowledge')
      ? own.knowledgeId
      : path.startsWith('/v1/bot/corrections')
        ? own.correctionId
        : path.startsWith('/v1/bot/conversations')
          ? own.conversationId
          : path.startsWith('/v1/bot/feedback')
            ? own.feedbackId
            : own.interactionId;
    return path.replace(/\{[^}]+\}/g, id);
  };

  beforeAll(async () => {
    context = await createTestContext();
    // The web process's own server (server.ts), so every case also runs through its request and response classes.
    server = createHttpServer(context.app);
    tenantA = await createTenant(context, { name: 'A' });
    tenantB = await createTenant(context, { name: 'B' });
    keyA = (await createApiKey(context, tenantA.tenant, { scopes: ['analytics:view', 'users:manage', 'conversations:manage'] })).secret;
    await postInbound(context, tenantB, inboundParams(tenantB, { Body: SECRET_OF_B, ProfileName: SECRET_OF_B })).expect(200);
    await context.services.processor.drain();
    idsOfB = (await context.database.dataSource.query('SELECT id FROM conversations UNION ALL SELECT id FROM messages')).map(
      (row: { id: string }) => row.id,
    );

    const { interactionId, conversationId } = await answeredInteraction(context, tenantA, 'What are your opening hours?');
    const authorized = (call: request.Test) => call.set('Authorization', `Bearer ${keyA}`);
    const knowledgeId = (
      await authorized(request(context.app).post('/v1/bot/knowledge/')).send({ question: 'Hours?', answer: '9 to 5' }).expect(201)
    ).body.id;
    const correctionId = (
      await authorized(request(context.app).post('/v1/bot/corrections/'))
        .send({ customer_message: 'Hours?', bot_response: 'Always.', human_response: '9 to 5.', correction_category: 'factual_error' })
        .expect(201)
    ).body.id;
    const [feedback] = await context.database.dataSource.query('SELECT id FROM interaction_feedback WHERE agent_interaction_id = $1', [
      interactionId,
    ]);
    const replySid = messageSid();
    await context.database.dataSource.query(
      `UPDATE messages SET message_sid = $1, status = 'sent' WHERE tenant_id = $2 AND direction = 'outbound'`,
      [replySid, tenantA.tenant.id],
    );
    own = { interactionId, conversationId, knowledgeId, correctionId, feedbackId: feedback?.id ?? interactionId, replySid };

    const schema = await request(context.app).get('/schema/');
    expect(schema.status).toBe(200);
    const paths = schema.body.paths as Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ in: string; name: string; schema?: { format?: string; enum?: unknown[] } }>;
          requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
        }
      >
    >;
    operations = Object.entries(paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod)
        .filter(([method]) => ['get', 'post', 'patch', 'delete'].includes(method))
        .map(([method, operation]) => {
          const json = operation.requestBody?.content['application/json'];
          return {
            method: method as Method,
            path,
            query: (operation.parameters ?? [])
              .filter((parameter) => parameter.in === 'query')
              .map((parameter) => ({
                name: parameter.name,
                format: parameter.schema?.format,
                values: parameter.schema?.enum?.filter((value): value is string => typeof value === 'string'),
              })),
            jsonBody: json ? Object.keys(json.schema.properties ?? {}) : null,
          };
        }),
    );
    endpoints = [...KNOWN_ENDPOINTS, ...operations.filter((operation) => !operation.path.startsWith('/v1/webhooks'))];
  });
  afterAll(async () => {
    server.close();
    await context.close();
  });

  it('the WhatsApp webhook rejects arbitrary form bodies and signatures with a 4xx and stores nothing', async () => {
    const before = await countRows();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.oneof(fc.constantFrom('To', 'From', 'Body', 'MessageSid', 'NumMedia', 'MediaUrl0', 'ButtonPayload', 'WaId'), unicodeText),
          fc.oneof(unicodeText, hugeText),
          { maxKeys: 8 },
        ),
        fc.oneof(fc.constant(undefined), unicodeText),
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded; charset=utf-16',
        ),
        async (params, signature, contentType) => {
          const body = new URLSearchParams(params).toString();
          let call = request(server).post('/v1/webhooks/twilio/whatsapp').set('content-type', contentType);
          if (signature !== undefined) call = call.set('X-Twilio-Signature', signature.replace(/[^\x21-\x7e]/g, ''));
          const response = await call.send(body);
          expectErrorShape(response);
          expect(response.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 100, endOnFailure: true },
    );
    expect(await countRows()).toEqual(before);
  });

  it('a correctly signed webhook with malformed fields is a 4xx and stores nothing', async () => {
    const before = await countRows();
    const inboundBefore = (
      await context.database.dataSource.query(`SELECT count(*)::int AS count FROM messages WHERE direction = 'inbound'`)
    )[0].count as number;
    const path = '/v1/webhooks/twilio/whatsapp';
    let acknowledged = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          MessageSid: fc.oneof(unicodeText, fc.constant('SM123')),
          From: fc.oneof(
            unicodeText,
            hugeText.map((text) => text.slice(0, 500)),
          ),
          NumMedia: fc.oneof(unicodeText, fc.constantFrom('11', '-1', '1.5')),
          Body: fc.oneof(unicodeText, fc.constant('b'.repeat(5_000))),
        }),
        async (fields) => {
          const params = { ...inboundParams(tenantA), ...fields };
          const signature = signTwilio(tenantA.credentials.twilioAuthToken, `${context.config.publicBaseUrl}${path}`, params);
          const response = await request(server).post(path).type('form').set('X-Twilio-Signature', signature).send(params);
          expectErrorShape(response);
          // A field set can be valid by chance (a plain string From): then it must be a normal 200 acknowledgement.
          if (response.status === 200) {
            expect(response.text).toContain('<Response/>');
            acknowledged += 1;
          }
        },
      ),
      { numRuns: 100, endOnFailure: true },
    );
    const inbound = async () =>
      (await context.database.dataSource.query(`SELECT count(*)::int AS count FROM messages WHERE direction = 'inbound'`))[0]
        .count as number;
    expect((await countRows()).knowledge).toBe(before.knowledge);
    expect((await inbound()) - inboundBefore).toBe(acknowledged);
  });

  it('a correctly signed webhook carrying NUL, lone surrogates or odd text in any field is acknowledged and its message stored', async () => {
    const path = '/v1/webhooks/twilio/whatsapp';
    const extraName = fc
      .tuple(fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), fc.constantFrom('', '\u0000', '\ud800'))
      .map(([name, bad]) => `X${name.slice(0, 3)}${bad}${name.slice(3)}`);
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            Body: hostileText,
            ProfileName: hostileText,
            ButtonText: hostileText,
            ButtonPayload: hostileText,
            WaId: fc.oneof(
              hostileText.map((text) => text.slice(0, 20)),
              fc.constant('14155550100\u0000'),
            ),
            MessageType: fc.constantFrom('text', 'button', 'te\u0000xt'),
            media: fc.option(fc.tuple(hostileText, hostileText)),
            extra: fc.dictionary(extraName, hostileText, { maxKeys: 3 }),
          },
          { requiredKeys: ['Body', 'extra', 'media'] },
        ),
        fc.constantFrom('whatsapp:+14155550100', 'whatsapp:+1415555\u00000101'),
        async ({ media, extra, ...fields }, from) => {
          const sid = messageSid();
          const params: Record<string, string> = { ...inboundParams(tenantA, { MessageSid: sid, From: from }), ...fields, ...extra };
          if (media)
            Object.assign(params, { NumMedia: '1', MediaUrl0: `https://api.twilio.com/media/${media[0]}`, MediaContentType0: media[1] });
          // What the server parses from the form body (a lone surrogate cannot be sent: it arrives as U+FFFD); Twilio
          // signs exactly that.
          const body = new URLSearchParams(params).toString();
          const parsed = Object.fromEntries(new URLSearchParams(body));
          const signature = signTwilio(tenantA.credentials.twilioAuthToken, `${context.config.publicBaseUrl}${path}`, parsed);
          const response = await request(server)
            .post(path)
            .set('content-type', 'application/x-www-form-urlencoded')
            .set('X-Twilio-Signature', signature)
            .send(body);
          expectErrorShape(response, `POST ${path}`);
          expect(response.status).toBe(200);
          const [stored] = await context.database.dataSource.query(
            `SELECT body, raw_payload->>'Body' AS raw_body FROM messages WHERE message_sid = $1`,
            [sid],
          );
          expect(stored).toEqual({ body: parsed.Body.replaceAll('\u0000', ''), raw_body: parsed.Body.replaceAll('\u0000', '') });
        },
      ),
      { numRuns: 50, endOnFailure: true },
    );
  });

  it('a correctly signed status callback with odd fields never answers 5xx', async () => {
    const path = '/v1/webhooks/twilio/status';
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          MessageSid: fc.oneof(
            fc.constant(own.replySid),
            fc.constant(`${own.replySid}\u0000`),
            hostileText,
            hugeText.map((text) => text.slice(0, 300)),
          ),
          MessageStatus: fc.oneof(fc.constantFrom('sent', 'delivered', 'read', 'failed', 'undelivered', 'canceled'), hostileText),
          ErrorCode: fc.option(fc.oneof(fc.constantFrom('63016', '630\u000016'), hostileText, hostileNumberText), { nil: undefined }),
          Extra: fc.option(hostileText, { nil: undefined }),
        }),
        fc.option(fc.oneof(fc.constant(own.replySid), fc.uuid(), hostileText), { nil: undefined }),
        async (fields, messageId) => {
          const params = Object.fromEntries(
            Object.entries({ ...fields, From: tenantA.address, To: 'whatsapp:+14155550100' }).filter(([, value]) => value !== undefined),
          ) as Record<string, string>;
          const target = messageId === undefined ? path : `${path}?message_id=${encodePathSegment(messageId)}`;
          const body = new URLSearchParams(params).toString();
          const parsed = Object.fromEntries(new URLSearchParams(body));
          const signature = signTwilio(tenantA.credentials.twilioAuthToken, `${context.config.publicBaseUrl}${target}`, parsed);
          const response = await request(server)
            .post(target)
            .set('content-type', 'application/x-www-form-urlencoded')
            .set('X-Twilio-Signature', signature)
            .send(body);
          expectErrorShape(response, `POST ${target}`);
          if (response.status < 400) expect(response.status).toBe(204);
        },
      ),
      { numRuns: 50, endOnFailure: true },
    );
  });

  it('every documented query parameter, given dates, cursors, numbers and text far out of range, answers without a 5xx', async () => {
    const withQuery = operations.filter((operation) => operation.method === 'get' && operation.query.length > 0);
    expect(withQuery.map((operation) => operation.path)).toEqual(
      expect.arrayContaining(['/v1/bot/knowledge/', '/v1/bot/providers/costs/', '/v1/bot/providers/usage/']),
    );
    // Each operation gets its own runs, so a rarely used endpoint is explored as much as a list with many filters.
    for (const operation of withQuery) {
      const caseOf = fc
        .record({
          parameters: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...operation.query).map((parameter) => [parameter]) },
            {
              weight: 2,
              arbitrary: fc.uniqueArray(fc.constantFrom(...operation.query), {
                minLength: 1,
                maxLength: 2,
                selector: (parameter) => parameter.name,
              }),
            },
          ),
          anchor: anchorDay,
          offsets: fc.tuple(fc.integer({ min: -2, max: 3 }), fc.integer({ min: 3, max: 40 })),
        })
        .chain(({ parameters, anchor, offsets }) =>
          fc.tuple(...parameters.map((parameter) => fc.tuple(fc.constant(parameter.name), hostileQueryValue(parameter, anchor, offsets)))),
        );
      await fc.assert(
        fc.asyncProperty(caseOf, async (entries) => {
          const query = new URLSearchParams();
          for (const [name, value] of entries) for (const item of [value].flat()) query.append(name, item);
          const response = await request(server).get(`${operation.path}?${query}`).set('Authorization', `Bearer ${keyA}`);
          expectErrorShape(response, `GET ${operation.path}?${query}`);
        }),
        { numRuns: 20, endOnFailure: true, examples: queryExamples(operation).map((entries): [Array<[string, string]>] => [entries]) },
      );
    }
  });

  it('every documented JSON body with a field made hostile (unstorable text, huge numbers, wrong types) answers without a 5xx', async () => {
    const withBody = operations.filter((operation) => operation.jsonBody !== null);
    expect(withBody.length).toBeGreaterThanOrEqual(9);
    // An import's content is a file: hostile text inside a well-formed CSV or JSON file reaches the entries' checks.
    const importedFile = fc.oneof(
      hostileText.map((text) => ({
        format: 'csv',
        content: `question,answer,tags\n"${text.replaceAll('"', '""')}",a,${text.replaceAll(/[",\r\n]/g, '')}`,
      })),
      fc
        .tuple(hostileText, hostileText)
        .map(([question, tag]) => ({ format: 'json', content: JSON.stringify([{ question, answer: 'a', tags: [tag] }]) })),
    );
    for (const operation of withBody) {
      const fieldNames = operation.jsonBody?.length ? operation.jsonBody : ['value'];
      const isImport = operation.path === '/v1/bot/knowledge/import/';
      const base = validBody(operation) as Record<string, unknown>;
      // A text field mostly gets text PostgreSQL cannot store; any field may get any hostile value.
      const hostileField = (name: string) =>
        (typeof base[name] === 'string'
          ? fc.oneof({ weight: 3, arbitrary: unstorableText }, { weight: 2, arbitrary: hostileJson })
          : hostileJson
        ).map((value) => [name, value] as const);
      const fields = fc
        .oneof(
          { weight: 3, arbitrary: fc.constantFrom(...fieldNames).map((name) => [name]) },
          // Two distinct fields only where there are two: uniqueArray would otherwise look for a second one forever.
          {
            weight: fieldNames.length > 1 ? 1 : 0,
            arbitrary: fc.uniqueArray(fc.constantFrom(...fieldNames), { minLength: 2, maxLength: 2 }),
          },
        )
        .chain((names) => fc.tuple(...names.map(hostileField)))
        .map((entries) => ({ fields: Object.fromEntries(entries) as Record<string, unknown> }));
      // One or two fields of a valid body made hostile, a hostile file to import, or the whole body replaced.
      const change = fc.oneof(
        { weight: isImport ? 3 : 9, arbitrary: fields },
        { weight: isImport ? 6 : 0, arbitrary: importedFile.map((file) => ({ fields: file as Record<string, unknown> })) },
        { weight: 1, arbitrary: hostileJson.map((whole) => ({ whole })) },
      );
      await fc.assert(
        fc.asyncProperty(change, async (changed) => {
          const body = 'fields' in changed ? Object.assign(validBody(operation) as object, changed.fields) : changed.whole;
          const path = ownPath(operation.path);
          const submit = operation.path === '/v1/bot/feedback/submit/';
          // The submit endpoint's rate limits live in the app: a fresh one per case keeps its buckets full.
          let call = request(submit ? createApp(context.services) : server)
            [operation.method](path)
            .set('content-type', 'application/json');
          if (!submit) call = call.set('Authorization', `Bearer ${keyA}`);
          const response = await call.send(JSON.stringify(body));
          expectErrorShape(response, `${operation.method.toUpperCase()} ${path} ${JSON.stringify(body)?.slice(0, 300)}`);
        }),
        {
          numRuns: 20,
          endOnFailure: true,
          examples: bodyExamples(operation, base).map((fields): [{ fields: Record<string, unknown> }] => [{ fields }]),
        },
      );
    }
  });

  it('every API endpoint answers random paths, queries, bodies and headers without a 5xx or a leak of another tenant', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.oneof(unicodeText, fc.constantFrom(...idsOfB), fc.constantFrom(...MALFORMED_SEGMENTS)),
        fc.dictionary(
          fc.constantFrom(
            'limit',
            'cursor',
            'status',
            'days',
            'from',
            'to',
            'format',
            'group_by',
            'month',
            'after',
            'rating',
            'q',
            'tag',
            'min_quality',
            'category',
          ),
          fc.oneof(
            unicodeText,
            hugeText.map((text) => text.slice(0, 6000)),
          ),
          { maxKeys: 4 },
        ),
        fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }), unicodeText),
        fc.constantFrom('bearer', 'tenant-headers', 'none', 'garbage', 'other-tenant-id'),
        async (endpoint, id, query, body, authentication) => {
          const segment = MALFORMED_SEGMENTS.includes(id) ? id : encodePathSegment(id);
          const path = endpoint.path.replace(/\{[^}]+\}/g, segment);
          let call = request(server)[endpoint.method](path).query(query);
          if (authentication === 'bearer') call = call.set('Authorization', `Bearer ${keyA}`);
          if (authentication === 'tenant-headers') call = call.set('X-TENANT-ID', tenantA.tenant.id).set('X-TENANT-API-KEY', keyA);
          // Header values must be visible ASCII for the HTTP client itself; the server gets whatever that allows.
          if (authentication === 'garbage')
            call = call.set(
              'Authorization',
              `Bearer ${String(id)
                .replace(/[^\x21-\x7e]/g, '')
                .slice(0, 100)}`,
            );
          if (authentication === 'other-tenant-id') call = call.set('X-TENANT-ID', tenantB.tenant.id).set('X-TENANT-API-KEY', keyA);
          const response =
            body === undefined
              ? await call
              : typeof body === 'string'
                ? await call.set('content-type', 'application/json').send(body)
                : await call.set('content-type', 'application/json').send(JSON.stringify(body));
          expectErrorShape(response);
          expect(response.text).not.toContain(SECRET_OF_B);
        },
      ),
      { numRuns: 150, endOnFailure: true },
    );
  });
});

/**
 * Bad input, property-based (fast-check): random and malformed form bodies, JSON bodies, headers, query strings,
 * unicode and huge values against every endpoint. No 5xx, every error in the one JSON shape, nothing stored for
 * rejected requests, nothing of one tenant visible to another.
 */
import http from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/http-server';
import { createApiKey, createTenant, inboundParams, postInbound, signTwilio, type TenantFixture } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';

/** Text that tenant B owns; it must never appear in a response to tenant A. */
const SECRET_OF_B = 'zebra-secret-of-tenant-b';

/** Endpoints known to the app; the OpenAPI document, when served, adds every documented route. */
const KNOWN_ENDPOINTS: Array<{ method: 'get' | 'post' | 'patch' | 'delete'; path: string }> = [
  { method: 'get', path: '/v1/bot/conversations' },
  { method: 'get', path: '/v1/bot/conversations/{id}' },
  { method: 'get', path: '/healthz' },
  { method: 'get', path: '/readyz' },
  { method: 'get', path: '/v1/simulator/replies' },
];

const unicodeText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '%', '%%', '\ud800', '😀'.repeat(20), '<script>', "' OR 1=1 --", '../../etc/passwd', '{}', '[]', 'null', '-1', '1e309', 'NaN'),
  fc.integer().map(String),
  fc.uuid().map(String),
);
const hugeText = fc.constantFrom('x'.repeat(70_000), 'é'.repeat(40_000));

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

function expectErrorShape(response: request.Response): void {
  expect(response.status).toBeLessThan(500);
  if (response.status >= 400) {
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(typeof response.body.error?.code).toBe('string');
    expect(typeof response.body.error?.message).toBe('string');
    expect(Object.keys(response.body)).toEqual(['error']);
  }
}

describe('bad input never breaks Parley', () => {
  let context: TestContext;
  let tenantA: TenantFixture;
  let tenantB: TenantFixture;
  let keyA: string;
  let endpoints = KNOWN_ENDPOINTS;
  let idsOfB: string[] = [];
  /** The app behind a real HTTP server with the production client-error handler, as server.ts runs it. */
  let server: http.Server;

  const countRows = async () => {
    const [row] = await context.database.dataSource.query(
      `SELECT (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM customers)::int AS customers,
              (SELECT count(*) FROM conversations)::int AS conversations, (SELECT count(*) FROM knowledge_entries)::int AS knowledge`,
    );
    return row as Record<string, number>;
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
    idsOfB = (await context.database.dataSource.query('SELECT id FROM conversations UNION ALL SELECT id FROM messages')).map((row: { id: string }) => row.id);
    const schema = await request(context.app).get('/schema/');
    if (schema.status === 200 && schema.body.paths) {
      const documented = Object.entries(schema.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
        Object.keys(operations)
          .filter((method) => ['get', 'post', 'patch', 'delete'].includes(method))
          .map((method) => ({ method: method as 'get' | 'post' | 'patch' | 'delete', path })),
      );
      endpoints = [...KNOWN_ENDPOINTS, ...documented.filter((endpoint) => !endpoint.path.startsWith('/v1/webhooks'))];
    }
  });
  afterAll(async () => {
    server.close();
    await context.close();
  });

  it('the WhatsApp webhook rejects arbitrary form bodies and signatures with a 4xx and stores nothing', async () => {
    const before = await countRows();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.oneof(fc.constantFrom('To', 'From', 'Body', 'MessageSid', 'NumMedia', 'MediaUrl0', 'ButtonPayload', 'WaId'), unicodeText), fc.oneof(unicodeText, hugeText), { maxKeys: 8 }),
        fc.oneof(fc.constant(undefined), unicodeText),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=utf-16'),
        async (params, signature, contentType) => {
          const body = new URLSearchParams(params).toString();
          let call = request(server).post('/v1/webhooks/twilio/whatsapp').set('content-type', contentType);
          if (signature !== undefined) call = call.set('X-Twilio-Signature', signature.replace(/[^\x21-\x7e]/g, ''));
          const response = await call.send(body);
          expectErrorShape(response);
          expect(response.status).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 150 },
    );
    expect(await countRows()).toEqual(before);
  });

  it('a correctly signed webhook with malformed fields is a 4xx and stores nothing', async () => {
    const before = await countRows();
    const path = '/v1/webhooks/twilio/whatsapp';
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          MessageSid: fc.oneof(unicodeText, fc.constant('SM123')),
          From: fc.oneof(unicodeText, hugeText.map((text) => text.slice(0, 500))),
          NumMedia: fc.oneof(unicodeText, fc.constantFrom('11', '-1', '1.5')),
          Body: fc.oneof(unicodeText, fc.constant('b'.repeat(5_000))),
        }),
        async (fields) => {
          const params = { ...inboundParams(tenantA), ...fields };
          const signature = signTwilio(tenantA.credentials.twilioAuthToken, `${context.config.publicBaseUrl}${path}`, params);
          const response = await request(server).post(path).type('form').set('X-Twilio-Signature', signature).send(params);
          expectErrorShape(response);
          // A field set can be valid by chance (a plain string From): then it must be a normal 200 acknowledgement.
          if (response.status === 200) expect(response.text).toContain('<Response/>');
        },
      ),
      { numRuns: 150 },
    );
    const after = await countRows();
    const accepted = after.messages - before.messages;
    const [{ valid }] = await context.database.dataSource.query(`SELECT count(*)::int AS valid FROM messages WHERE tenant_id = $1`, [tenantA.tenant.id]);
    expect(valid).toBe(accepted);
  });

  it('every API endpoint answers random paths, queries, bodies and headers without a 5xx or a leak of another tenant', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.oneof(unicodeText, fc.constantFrom(...idsOfB), fc.constantFrom(...MALFORMED_SEGMENTS)),
        fc.dictionary(fc.constantFrom('limit', 'cursor', 'status', 'days', 'from', 'to', 'format', 'group_by', 'month', 'after', 'rating'), fc.oneof(unicodeText, hugeText.map((text) => text.slice(0, 6000))), { maxKeys: 4 }),
        fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }), unicodeText),
        fc.constantFrom('bearer', 'tenant-headers', 'none', 'garbage', 'other-tenant-id'),
        async (endpoint, id, query, body, authentication) => {
          const segment = MALFORMED_SEGMENTS.includes(id) ? id : encodePathSegment(id);
          const path = endpoint.path.replace(/\{[^}]+\}/g, segment);
          let call = request(server)[endpoint.method](path).query(query);
          if (authentication === 'bearer') call = call.set('Authorization', `Bearer ${keyA}`);
          if (authentication === 'tenant-headers') call = call.set('X-TENANT-ID', tenantA.tenant.id).set('X-TENANT-API-KEY', keyA);
          // Header values must be visible ASCII for the HTTP client itself; the server gets whatever that allows.
          if (authentication === 'garbage') call = call.set('Authorization', `Bearer ${String(id).replace(/[^\x21-\x7e]/g, '').slice(0, 100)}`);
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
      { numRuns: 300 },
    );
  });
});

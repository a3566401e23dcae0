import type express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPES } from '../../src/db/entities/api-key';
import { normalizeRoutePath } from '../../src/http/openapi/route-registry';
import { createTestContext, type TestContext } from '../support/test-context';

interface RouterLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
  rawPath?: string | string[];
}

/** Every "METHOD /path" the express app serves, found by walking the router stack (mount paths joined). */
function servedRoutes(app: express.Express): string[] {
  const found: string[] = [];
  const walk = (stack: RouterLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, enabled] of Object.entries(layer.route.methods)) {
            if (enabled && method !== '_all') found.push(`${method} ${normalizeRoutePath(`${prefix}${path}`)}`);
          }
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, `${prefix}${mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}

describe('GET /schema/', () => {
  let context: TestContext;
  let document: {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          operationId: string;
          'x-required-scope': string;
          security: unknown[];
          parameters: Array<{ in: string; name: string }>;
          responses: Record<string, unknown>;
        }
      >
    >;
  };

  beforeAll(async () => {
    context = await createTestContext();
    document = (await request(context.app).get('/schema/').expect(200)).body;
  });
  afterAll(async () => {
    await context.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    // ESM-only package; a dynamic import keeps this CommonJS test file loading it.
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every route the app serves, and nothing it does not', () => {
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${normalizeRoutePath(path)}`))
      .sort();
    const served = servedRoutes(context.app);
    // A failure names the routes: declare new ones with registerRoute (src/http/openapi/route-registry.ts).
    expect({
      undocumented: served.filter((route) => !documented.includes(route)),
      notServed: documented.filter((route) => !served.includes(route)),
    }).toEqual({ undocumented: [], notServed: [] });
  });

  it('names the access rule of every operation, with 401 and 403 on scoped ones', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method} ${path}`;
        expect(['public', 'authenticated', 'twilio-signature', ...API_SCOPES], where).toContain(operation['x-required-scope']);
        if (/^[a-z]+:[a-z]+$/.test(operation['x-required-scope'])) {
          expect(Object.keys(operation.responses), where).toEqual(expect.arrayContaining(['401', '403']));
          expect(operation.security.length, where).toBeGreaterThan(0);
        }
      }
    }
  });

  it('declares a path parameter for every template segment, and unique operation ids', () => {
    const operationIds: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      for (const [method, operation] of Object.entries(operations)) {
        const declared = operation.parameters
          .filter((parameter) => parameter.in === 'path')
          .map((parameter) => parameter.name)
          .sort();
        expect(declared, `${method} ${path}`).toEqual(templated);
        operationIds.push(operation.operationId);
      }
    }
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('derives request schemas from the zod schemas that validate requests', () => {
    const create = document.paths['/v1/bot/knowledge/'].post as unknown as {
      requestBody: {
        content: { 'application/json': { schema: { required: string[]; properties: Record<string, { maxLength?: number }> } } };
      };
    };
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['question', 'answer']));
    expect(schema.properties.answer.maxLength).toBe(8000);
  });
});

describe('GET /schema/swagger/', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await createTestContext();
  });
  afterAll(async () => {
    await context.close();
  });

  it('serves Swagger UI and its assets locally, pointing at /schema/', async () => {
    const page = await request(context.app).get('/schema/swagger/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).not.toMatch(/https?:\/\//);
    await request(context.app).get('/schema/swagger').expect(200);
    const bundle = await request(context.app).get('/schema/swagger/swagger-ui-bundle.js').expect(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    await request(context.app).get('/schema/swagger/swagger-ui.css').expect(200);
    const initializer = await request(context.app).get('/schema/swagger/parley-initializer.js').expect(200);
    expect(initializer.text).toContain("url: '/schema/'");
    expect((await request(context.app).get('/schema/swagger/index.html')).status).toBe(404);
  });
});

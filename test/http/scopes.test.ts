import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SCOPES, type ApiScope } from '../../src/db/entities/api-key';
import { registeredRoutes } from '../../src/http/openapi/route-registry';
import { createApiKey, createTenant } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';

const SOME_UUID = '00000000-0000-4000-8000-000000000000';

// Every route the OpenAPI document lists with an API scope, so a new endpoint is covered the day it is declared.
const scopedRoutes = registeredRoutes().filter((route): route is typeof route & { scope: ApiScope } =>
  (API_SCOPES as readonly string[]).includes(route.scope),
);

describe('scopes on every declared endpoint', () => {
  let context: TestContext;
  const keysWithout = new Map<ApiScope, string>();

  beforeAll(async () => {
    context = await createTestContext();
    const { tenant } = await createTenant(context);
    for (const scope of API_SCOPES) {
      keysWithout.set(scope, (await createApiKey(context, tenant, { scopes: API_SCOPES.filter((other) => other !== scope) })).secret);
    }
  });
  afterAll(async () => {
    await context.close();
  });

  const call = (method: string, path: string) => {
    const url = path.replace(/\{[^}]+\}/g, SOME_UUID);
    return request(context.app)
      [method as 'get'](url)
      .send(method === 'get' || method === 'delete' ? undefined : {});
  };

  it('covers the API', () => {
    expect(scopedRoutes.length).toBeGreaterThan(10);
  });

  it.each(scopedRoutes.map((route) => [`${route.method.toUpperCase()} ${route.path}`, route] as const))(
    '%s answers 401 without a key and 403 without its scope',
    async (_name, route) => {
      const anonymous = await call(route.method, route.path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthorized');
      const withoutScope = await call(route.method, route.path).set('Authorization', `Bearer ${keysWithout.get(route.scope)}`);
      expect(withoutScope.status).toBe(403);
      expect(withoutScope.body.error.code).toBe('missing_scope');
    },
  );
});

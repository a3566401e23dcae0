/** Builds the OpenAPI 3.1 document from the route registry, converting the routes' zod schemas with z.toJSONSchema. */
import { z } from 'zod';
import { API_SCOPES } from '../../db/entities/api-key';
import { normalizeRoutePath, registeredRoutes, type RouteDefinition } from './route-registry';

type JsonSchema = Record<string, unknown>;

/** OpenAPI 3.1 schemas are JSON Schema 2020-12; the per-schema `$schema` key is redundant inside the document. */
function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
});

/** Path and query parameters, one per property of the zod object. */
function parameters(where: 'path' | 'query', schema: z.ZodObject | undefined): JsonSchema[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

function accessText(route: RouteDefinition): string {
  switch (route.scope) {
    case 'public':
      return 'Public: no API key.';
    case 'authenticated':
      return 'Any valid API key.';
    case 'twilio-signature':
      return 'Twilio webhook: X-Twilio-Signature required.';
    default:
      return `Requires an API key with the \`${route.scope}\` scope.`;
  }
}

/** One OpenAPI operation. */
function operation(route: RouteDefinition): JsonSchema {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    responses[status] = response.schema
      ? {
          description: response.description,
          content: { [response.contentType ?? 'application/json']: { schema: toSchema(response.schema, 'output') } },
        }
      : response.contentType
        ? { description: response.description, content: { [response.contentType]: { schema: { type: 'string' } } } }
        : { description: response.description };
  }
  if (route.params || route.query || route.body) responses['400'] ??= errorResponse('Invalid request (validation_failed)');
  const keyed = route.scope !== 'public' && route.scope !== 'twilio-signature';
  if (keyed) responses['401'] ??= errorResponse('Missing, invalid or revoked API key');
  if (keyed && route.scope !== 'authenticated') responses['403'] ??= errorResponse(`The API key lacks the ${route.scope} scope`);
  if (route.scope === 'twilio-signature') responses['403'] ??= errorResponse('Invalid Twilio signature');
  if (route.params) responses['404'] ??= errorResponse('Not found, or belongs to another tenant');
  const result: JsonSchema = {
    operationId: `${route.method}${normalizeRoutePath(route.path)
      .replace(/[{}]/g, '')
      .replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
    summary: route.summary,
    description: [route.description, accessText(route)].filter(Boolean).join('\n\n'),
    tags: route.tags ?? [],
    'x-required-scope': route.scope,
    parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
    responses,
  };
  if (keyed) result.security = [{ bearerAuth: [] }, { tenantApiKey: [], tenantId: [] }];
  else result.security = [];
  if (route.body) {
    result.requestBody = {
      required: true,
      content: { [route.bodyContentType ?? 'application/json']: { schema: toSchema(route.body, 'input') } },
    };
  }
  return result;
}

/** The whole OpenAPI 3.1 document of the routes registered so far. */
export function buildOpenApiDocument(options: { serverUrl?: string; version?: string } = {}): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of registeredRoutes()) {
    // Documented with the canonical trailing slash; the API accepts both forms.
    const normalized = normalizeRoutePath(route.path);
    const path = normalized === '/' ? '/' : `${normalized}/`;
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley API',
      version: options.version ?? '1',
      description: `WhatsApp customer-service agent. API keys carry scopes: ${API_SCOPES.join(', ')}. Every path accepts a trailing slash or none.`,
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    paths,
    components: {
      schemas: { ErrorBody: toSchema(errorBodySchema, 'output') },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer pk_...' },
        tenantApiKey: { type: 'apiKey', in: 'header', name: 'X-TENANT-API-KEY' },
        tenantId: { type: 'apiKey', in: 'header', name: 'X-TENANT-ID' },
      },
    },
  };
}

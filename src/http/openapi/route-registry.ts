/**
 * The route registry: every router declares its endpoints here with the same zod schemas it validates with, and
 * the OpenAPI document is generated from these declarations. A test walks the express router stack and fails when
 * a served route is not declared, so the document cannot silently drift from the app.
 */
import type { z } from 'zod';
import type { ApiScope } from '../../db/entities/api-key';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: an API key with a scope, any valid API key, anyone, or Twilio (signed webhook). */
export type RouteAccess = ApiScope | 'authenticated' | 'public' | 'twilio-signature';

export interface RouteResponse {
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
}

export interface RouteDefinition {
  method: HttpMethod;
  /** Full path in OpenAPI form, e.g. `/v1/bot/knowledge/{id}/`. */
  path: string;
  scope: RouteAccess;
  summary: string;
  description?: string;
  tags?: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Defaults to application/json. */
  bodyContentType?: string;
  /** Success responses by status; error responses are added from the access and the schemas. */
  responses: Record<number, RouteResponse>;
}

const routes = new Map<string, RouteDefinition>();

/** Normalises a path for comparison: express `:id` becomes `{id}`, and the trailing slash is dropped. */
export function normalizeRoutePath(path: string): string {
  const braced = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/{2,}/g, '/');
  return braced.length > 1 ? braced.replace(/\/+$/, '') : braced;
}

/** Declares a route for the OpenAPI document; declaring the same method and path again replaces it. */
export function registerRoute(definition: RouteDefinition): void {
  routes.set(`${definition.method} ${normalizeRoutePath(definition.path)}`, definition);
}

/** Every declared route, sorted by path then method. */
export function registeredRoutes(): RouteDefinition[] {
  return [...routes.values()].sort(
    (left, right) => normalizeRoutePath(left.path).localeCompare(normalizeRoutePath(right.path)) || left.method.localeCompare(right.method),
  );
}

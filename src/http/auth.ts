/**
 * API authentication: `Authorization: Bearer <key>` or `X-TENANT-ID` + `X-TENANT-API-KEY`.
 * The resulting AuthContext scopes every query to the key's tenant.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { ApiKeyService, AuthContext } from '../access/api-key-service';
import type { ApiScope } from '../db/entities/api-key';
import { forbidden, unauthorized } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads the presented key and expected tenant from the headers, without touching the database. */
function readCredentials(request: Request): { secret: string; tenantId?: string } | null {
  const authorization = request.get('authorization');
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? { secret: match[1] } : null;
  }
  const tenantId = request.get('x-tenant-id');
  const secret = request.get('x-tenant-api-key');
  if (tenantId && secret) return UUID.test(tenantId) ? { secret, tenantId: tenantId.toLowerCase() } : null;
  return null;
}

/** Requires a valid, unrevoked key; 401 otherwise. */
export function authenticate(apiKeys: ApiKeyService): RequestHandler {
  return async (request, response, next) => {
    const credentials = readCredentials(request);
    if (!credentials) throw unauthorized();
    const auth = await apiKeys.authenticate(credentials.secret, credentials.tenantId);
    if (!auth) throw unauthorized('The API key is invalid or revoked');
    response.locals.auth = auth;
    next();
  };
}

/** Requires a scope on the authenticated key; 403 otherwise. */
export function requireScope(scope: ApiScope): RequestHandler {
  return (_request, response, next) => {
    if (!authOf(response).scopes.has(scope)) throw forbidden(`This API key lacks the ${scope} scope`, 'missing_scope');
    next();
  };
}

/** The authenticated caller of this request (after `authenticate`). */
export function authOf(response: Response): AuthContext {
  const auth = response.locals.auth as AuthContext | undefined;
  if (!auth) throw unauthorized();
  return auth;
}

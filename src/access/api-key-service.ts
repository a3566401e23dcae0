/** Users and their API keys. Keys are shown once; only their SHA-256 is stored. */
import { type EntityManager, IsNull } from 'typeorm';
import { API_SCOPES, ApiKey, type ApiScope } from '../db/entities/api-key';
import { User, type UserRole } from '../db/entities/user';
import { randomToken, sha256Hex } from '../crypto/secrets';
import { notFound } from '../http/errors';

export interface AuthContext {
  tenantId: string;
  userId: string;
  apiKeyId: string;
  scopes: ReadonlySet<ApiScope>;
}

export interface IssuedKey {
  apiKey: ApiKey;
  /** The secret; returned once and never stored. */
  secret: string;
}

/**
 * Default scopes by role: agents handle conversations; supervisors also read analytics and curate what the bot
 * says (knowledge, corrections: users:manage); admins also change the tenant's settings (settings:manage).
 */
export const DEFAULT_SCOPES_BY_ROLE: Record<UserRole, ApiScope[]> = {
  agent: ['conversations:manage'],
  supervisor: ['conversations:manage', 'analytics:view', 'users:manage'],
  admin: [...API_SCOPES],
};

const KEY_PREFIX = 'pk_';
/** last_used_at is refreshed at most this often, so authentication does not write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export class ApiKeyService {
  constructor(private readonly manager: EntityManager) {}

  /** Creates a user of a tenant. */
  createUser(tenantId: string, name: string, role: UserRole, manager: EntityManager = this.manager): Promise<User> {
    return manager.save(manager.create(User, { tenantId, name, role }));
  }

  /** A user of the tenant, or null. */
  findUser(tenantId: string, userId: string): Promise<User | null> {
    return this.manager.findOneBy(User, { id: userId, tenantId });
  }

  /** Issues a key for a user; the secret is in the result only. */
  async issueKey(
    user: Pick<User, 'id' | 'tenantId' | 'role'>,
    options: { scopes?: ApiScope[]; label?: string } = {},
    manager: EntityManager = this.manager,
  ): Promise<IssuedKey> {
    const secret = `${KEY_PREFIX}${randomToken(32)}`;
    const apiKey = await manager.save(
      manager.create(ApiKey, {
        tenantId: user.tenantId,
        userId: user.id,
        label: options.label ?? '',
        keyHash: sha256Hex(secret),
        keyPrefix: secret.slice(0, 10),
        scopes: options.scopes ?? DEFAULT_SCOPES_BY_ROLE[user.role],
        lastUsedAt: null,
        revokedAt: null,
      }),
    );
    return { apiKey, secret };
  }

  /** Revokes a key by id (optionally only within a tenant); 404 when there is no such active key. */
  async revoke(apiKeyId: string, tenantId?: string): Promise<void> {
    const where = tenantId ? { id: apiKeyId, tenantId, revokedAt: IsNull() } : { id: apiKeyId, revokedAt: IsNull() };
    const result = await this.manager.update(ApiKey, where, { revokedAt: new Date() });
    if (!result.affected) throw notFound('API key');
  }

  /** The auth context of a presented secret, or null when unknown or revoked. */
  async authenticate(secret: string, expectedTenantId?: string): Promise<AuthContext | null> {
    if (!secret.startsWith(KEY_PREFIX) || secret.length > 200) return null;
    const apiKey = await this.manager.findOneBy(ApiKey, { keyHash: sha256Hex(secret) });
    if (!apiKey || apiKey.revokedAt) return null;
    if (expectedTenantId !== undefined && apiKey.tenantId !== expectedTenantId) return null;
    const now = Date.now();
    if (!apiKey.lastUsedAt || now - apiKey.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.manager.update(ApiKey, { id: apiKey.id }, { lastUsedAt: new Date(now) });
    }
    return { tenantId: apiKey.tenantId, userId: apiKey.userId, apiKeyId: apiKey.id, scopes: new Set(apiKey.scopes) };
  }
}

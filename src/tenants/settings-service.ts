/**
 * Reading and changing a tenant's settings (the API and `npm run admin -- tenant:configure`). A change is a JSON
 * merge patch (RFC 7396) over the settings document, validated as a whole with the one schema
 * (tenants/tenant-settings.ts) before anything is stored. Secrets (provider keys, the Twilio token) are set through
 * the write-only `credentials` member: sealed with the tenant's other credentials, never returned (only whether each
 * is set). The settings, the credentials and an audit row (who, when, which fields; never values) are written in
 * one transaction, the tenant row locked, so two concurrent patches cannot lose each other's changes.
 */
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { Tenant } from '../db/entities/tenant';
import { AppError, notFound, validationFailed } from '../http/errors';
import { safeText } from '../http/safe-text';
import { webhookSigningSecret } from '../net/outbound-webhooks';
import { openCredentials, sealCredentials, type TenantCredentials } from './tenant-credentials';
import type { TenantService } from './tenant-service';
import { applyMergePatch, patchedFields, type SettingsProblem, tenantSettingsSchema } from './tenant-settings';

const secret = safeText().trim().min(1).max(500);

/** The write-only secrets a patch may set (null removes an optional one). */
export const credentialsPatchSchema = z
  .object({
    twilioAccountSid: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC + 32 hex characters')
      .nullable()
      .optional()
      .describe('null: the simulated WhatsApp transport'),
    twilioAuthToken: secret.optional(),
    openaiApiKey: secret.nullable().optional(),
    geminiApiKey: secret.nullable().optional(),
    providerApiKeys: z
      .record(z.string().regex(/^[a-z][a-z0-9_-]{1,40}$/, 'must be a compatible provider id'), secret.nullable())
      .optional(),
  })
  .strict();

export type CredentialsPatch = z.infer<typeof credentialsPatchSchema>;

/** Who changes the settings. */
export type SettingsActor = { kind: 'api'; userId: string } | { kind: 'cli' };

/** A tenant's settings as the API shows them. */
export interface SettingsView {
  settings: Record<string, unknown>;
  /** Stored sections that are invalid (written outside the API), and what Parley uses instead. */
  problems: SettingsProblem[];
  /** Which secrets are set; their values are never returned. */
  credentials: {
    twilioAccountSid: string | null;
    twilioAuthToken: boolean;
    openaiApiKey: boolean;
    geminiApiKey: boolean;
    providerApiKeys: string[];
  };
  updatedAt: string;
}

/** One audited change. */
export interface SettingsChange {
  id: string;
  actor: 'api' | 'cli';
  actorUserId: string | null;
  actorName: string | null;
  fields: string[];
  createdAt: string;
}

/** The settings API's commands and reads. */
export class TenantSettingsService {
  constructor(
    private readonly manager: EntityManager,
    private readonly tenants: TenantService,
    private readonly encryptionKey: Buffer,
  ) {}

  /** The tenant's settings, problems and which secrets are set; 404 for an unknown tenant. */
  async get(tenantId: string): Promise<SettingsView> {
    const tenant = await this.manager.findOneBy(Tenant, { id: tenantId });
    if (!tenant) throw notFound('Tenant');
    return this.view(tenant);
  }

  /**
   * Applies a merge patch: `patch` without its `credentials` member is merged into the stored settings, and the
   * result must be valid as a whole (400 with every field's problem otherwise; nothing is stored).
   */
  async patch(tenantId: string, patch: Record<string, unknown>, actor: SettingsActor): Promise<SettingsView> {
    const { credentials: credentialsPatchInput, ...settingsPatch } = patch;
    const credentialsPatch = credentialsPatchInput === undefined ? undefined : credentialsPatchSchema.safeParse(credentialsPatchInput);
    if (credentialsPatch && !credentialsPatch.success) throw validationFailed(prefixed(credentialsPatch.error, 'credentials'), 'settings');
    const fields = [...patchedFields(settingsPatch), ...patchedFields(credentialsPatchInput ?? {}, 'credentials')];
    if (fields.length === 0) throw new AppError(400, 'empty_patch', 'The patch changes nothing: give at least one setting or credential');
    const saved = await this.manager.transaction(async (manager) => {
      const tenant = await manager.findOne(Tenant, { where: { id: tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!tenant) throw notFound('Tenant');
      const merged = applyMergePatch(tenant.settings, settingsPatch);
      const checked = tenantSettingsSchema(this.tenants.urlPolicy).safeParse(merged);
      if (!checked.success) throw validationFailed(checked.error, 'settings');
      tenant.settings = checked.data as Record<string, unknown>;
      if (credentialsPatch?.data) {
        const current = openCredentials(this.encryptionKey, tenant.encryptedCredentials);
        tenant.encryptedCredentials = sealCredentials(this.encryptionKey, mergeCredentials(current, credentialsPatch.data));
      }
      await manager.save(tenant);
      await manager.query(`INSERT INTO tenant_settings_changes (tenant_id, actor, actor_user_id, fields) VALUES ($1, $2, $3, $4)`, [
        tenantId,
        actor.kind,
        actor.kind === 'api' ? actor.userId : null,
        fields,
      ]);
      return tenant;
    });
    // Other instances see the change within their cache period (a few seconds).
    this.tenants.invalidate();
    return this.view(saved);
  }

  /** The secret the tenant's outbound webhooks are signed with (derived, never stored; see docs/webhooks.md). */
  webhookSecret(tenantId: string): string {
    return webhookSigningSecret(this.encryptionKey, tenantId);
  }

  /** The tenant's latest audited changes, newest first. */
  async changes(tenantId: string, limit = 50): Promise<SettingsChange[]> {
    const rows: Array<{
      id: string;
      actor: 'api' | 'cli';
      actor_user_id: string | null;
      actor_name: string | null;
      fields: string[];
      created_at: Date;
    }> = await this.manager.query(
      `SELECT change.id, change.actor, change.actor_user_id, users.name AS actor_name, change.fields, change.created_at
           FROM tenant_settings_changes change LEFT JOIN users ON users.id = change.actor_user_id
          WHERE change.tenant_id = $1 ORDER BY change.created_at DESC, change.id LIMIT $2`,
      [tenantId, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      actor: row.actor,
      actorUserId: row.actor_user_id,
      actorName: row.actor_name,
      fields: row.fields,
      createdAt: new Date(row.created_at).toISOString(),
    }));
  }

  private view(tenant: Tenant): SettingsView {
    const resolved = this.tenants.resolve(tenant);
    const credentials = resolved.credentials;
    return {
      settings: tenant.settings,
      problems: resolved.settingsProblems,
      credentials: {
        twilioAccountSid: credentials.twilioAccountSid ?? null,
        twilioAuthToken: Boolean(credentials.twilioAuthToken),
        openaiApiKey: Boolean(credentials.openaiApiKey),
        geminiApiKey: Boolean(credentials.geminiApiKey),
        providerApiKeys: Object.keys(credentials.providerApiKeys ?? {}).sort(),
      },
      updatedAt: new Date(tenant.updatedAt).toISOString(),
    };
  }
}

/** The credentials after a patch: given values replace, null removes, absent keep. */
function mergeCredentials(current: TenantCredentials, patch: CredentialsPatch): TenantCredentials {
  const { providerApiKeys: currentKeys, ...rest } = current;
  const next: TenantCredentials = { ...rest };
  for (const name of ['twilioAccountSid', 'openaiApiKey', 'geminiApiKey'] as const) {
    const value = patch[name];
    if (value === null) delete next[name];
    else if (value !== undefined) next[name] = value;
  }
  if (patch.twilioAuthToken !== undefined) next.twilioAuthToken = patch.twilioAuthToken;
  const providerApiKeys: Record<string, string> = { ...currentKeys };
  for (const [provider, value] of Object.entries(patch.providerApiKeys ?? {})) {
    if (value === null) delete providerApiKeys[provider];
    else providerApiKeys[provider] = value;
  }
  if (Object.keys(providerApiKeys).length > 0) next.providerApiKeys = providerApiKeys;
  return next;
}

/** The same zod error with every issue's path under `prefix`. */
function prefixed(error: z.ZodError, prefix: string): z.ZodError {
  return new z.ZodError(error.issues.map((issue) => ({ ...issue, path: [prefix, ...issue.path] })));
}

/** A tenant's secrets: sealed with AES-256-GCM into tenants.encrypted_credentials, opened only in memory. */
import { z } from 'zod';
import { decryptSecret, encryptSecret } from '../crypto/secrets';

export const tenantCredentialsSchema = z.object({
  /** Absent: the tenant uses the simulated WhatsApp transport. */
  twilioAccountSid: z.string().optional(),
  /** Signs Twilio's webhooks; always present (generated for simulated tenants, used by `npm run chat`). */
  twilioAuthToken: z.string().min(1),
  openaiApiKey: z.string().optional(),
  geminiApiKey: z.string().optional(),
  /** Keys of configured OpenAI-compatible providers, by provider id. */
  providerApiKeys: z.record(z.string(), z.string()).optional(),
});

export type TenantCredentials = z.infer<typeof tenantCredentialsSchema>;

/** Seals credentials for storage. */
export function sealCredentials(key: Buffer, credentials: TenantCredentials): string {
  return encryptSecret(key, JSON.stringify(tenantCredentialsSchema.parse(credentials)));
}

/** Opens stored credentials; throws when the key is wrong. */
export function openCredentials(key: Buffer, sealed: string): TenantCredentials {
  return tenantCredentialsSchema.parse(JSON.parse(decryptSecret(key, sealed)));
}

/**
 * The credential a request to a provider uses, as the circuit breakers and usage rows know it: a fingerprint (never
 * the key) and whose credential it is. The platform's key is one credential shared by every tenant that uses it; a
 * tenant's own key, base URL or keyless endpoint is that tenant's alone, so its failures open only its breaker.
 */
import crypto from 'node:crypto';

export interface ProviderCredential {
  /** 32 hex characters of SHA-256 over the provider, base URL, key, extra request parameters and owner. */
  fingerprint: string;
  /** The tenant whose credential this is; null for the platform's (shared by every tenant on it). */
  tenantId: string | null;
}

export interface CredentialParts {
  provider: string;
  /** The base URL the requests go to; undefined for the SDK's default. */
  baseUrl: string | undefined;
  apiKey: string;
  /** Headers and query parameters sent with every request (a gateway's key may travel there). */
  extra?: Record<string, unknown>;
  /** null for the platform's credential. */
  tenantId: string | null;
}

const FINGERPRINT_VERSION = 'parley-credential-v1';

/** The fingerprint of a credential: equal for equal parts, and telling nothing of the key. */
export function credentialFingerprint(parts: CredentialParts): string {
  // The owner is hashed in: two tenants who configure the same key or the same keyless URL still get a breaker each,
  // so one tenant's traffic can never open another's, and neither can see the other's breaker.
  const fields = [
    FINGERPRINT_VERSION,
    parts.provider,
    parts.baseUrl ?? '',
    parts.apiKey,
    JSON.stringify(parts.extra ?? {}),
    parts.tenantId ?? 'platform',
  ];
  return crypto.createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}

/** The credential of the given parts. */
export function providerCredential(parts: CredentialParts): ProviderCredential {
  return { fingerprint: credentialFingerprint(parts), tenantId: parts.tenantId };
}

/** Row factories for the LLM-layer tests: tenants and provider usage attempts. */
import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Tenant } from '../../src/db/entities/tenant';
import { emptyUsage } from '../../src/llm/types';
import type { UsageAttempt } from '../../src/llm/usage-recording';
import { ProviderUsageRecorder } from '../../src/tracking/provider-usage-recorder';

/** A bare tenant row (credentials are not read by these tests). */
export async function insertTenant(manager: EntityManager, settings: Tenant['settings'] = {}): Promise<Tenant> {
  const number = `+1666${String(crypto.randomInt(1_000_000, 9_999_999))}`;
  return manager.save(
    manager.create(Tenant, { name: `LLM tenant ${number}`, whatsappNumber: number, encryptedCredentials: 'unused', settings }),
  );
}

/** One usage attempt with sensible defaults. */
export function usageAttempt(tenantId: string, overrides: Partial<UsageAttempt> = {}): UsageAttempt {
  return {
    tenantId,
    conversationId: null,
    interactionId: null,
    provider: 'openai',
    model: 'gpt-4o',
    usage: emptyUsage(),
    costUsd: '0',
    latencyMs: 5,
    success: true,
    wasFailover: false,
    attemptNumber: 1,
    ...overrides,
  };
}

/** Records a success or a failure of `kind` for a model, made with the target's credential when it names one. */
export async function recordAttempt(
  manager: EntityManager,
  tenantId: string,
  target: { provider: string; model: string; credential?: { fingerprint: string } },
  outcome: 'success' | UsageAttempt['errorKind'],
) {
  await new ProviderUsageRecorder(manager).record(
    usageAttempt(tenantId, {
      provider: target.provider,
      model: target.model,
      credentialFingerprint: target.credential?.fingerprint ?? null,
      success: outcome === 'success',
      errorKind: outcome === 'success' ? undefined : outcome,
    }),
  );
}

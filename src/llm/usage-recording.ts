/**
 * What the reply generator needs from usage tracking, defined here so the llm layer imports nothing of tracking:
 * tracking/provider-usage-recorder.ts implements it, and the wiring (services.ts) injects it.
 */
import type { TokenUsage, UpstreamErrorKind } from './types';

/** One model attempt, as the reply generator reports it. */
export interface UsageAttempt {
  tenantId: string;
  conversationId: string | null;
  interactionId: string | null;
  provider: string;
  model: string;
  /** The fingerprint of the credential used (llm/provider-credential.ts); the breaker's window counts by it. */
  credentialFingerprint?: string | null;
  usage: TokenUsage;
  /** Exact dollars as a decimal string. */
  costUsd: string;
  latencyMs: number;
  success: boolean;
  errorKind?: UpstreamErrorKind;
  errorStatus?: number;
  errorMessage?: string;
  finishReason?: string;
  wasFailover: boolean;
  attemptNumber: number;
  routingReason?: string;
  complexityScore?: number;
  metadata?: Record<string, unknown>;
}

/** Records every attempt and answers the spend question the budget cap asks. */
export interface UsageRecorder {
  /** Stores one attempt (the breaker's failure window reads these rows, so it must have committed on return). */
  record(attempt: UsageAttempt): Promise<void>;
  /** The tenant's spend since the start of the current UTC month, as a decimal string. */
  monthToDateSpend(tenantId: string): Promise<string>;
}

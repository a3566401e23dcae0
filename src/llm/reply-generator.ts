/**
 * The one entry point the agent uses to get a model's reply. This first version always uses the offline
 * provider; the router and failover engine (LLM-layer issue) replace its internals behind the same shape.
 */
import type { TenantSettings } from '../db/entities/tenant';
import type { TenantCredentials } from '../tenants/tenant-credentials';
import { OFFLINE_MODEL_ID, OfflineProvider } from './providers/offline/offline-provider';
import type { ChatMessage, FinishReason, KnowledgeSnippet, TokenUsage } from './types';

export interface ReplyRequest {
  tenantId: string;
  tenantSettings: TenantSettings;
  credentials: TenantCredentials;
  conversationId: string;
  /** Pre-generated id of the AgentInteraction this reply will be stored as; usage rows point to it. */
  interactionId: string;
  messages: ChatMessage[];
  knowledge: KnowledgeSnippet[];
  force?: { provider: string; model: string };
}

export interface ReplyOutcome {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  provider: string;
  model: string;
  /** Measured wall time of the model work, retries included. */
  latencyMs: number;
  /** The explainable routing decision. */
  routing: Record<string, unknown> | null;
  attempts: number;
}

export interface ReplyGenerator {
  generate(request: ReplyRequest): Promise<ReplyOutcome>;
}

/** A generator that answers with the offline provider only. */
export function createOfflineReplyGenerator(): ReplyGenerator {
  const offline = new OfflineProvider();
  return {
    async generate(request) {
      const started = performance.now();
      const result = await offline.generate({ model: OFFLINE_MODEL_ID, messages: request.messages, knowledge: request.knowledge });
      return {
        text: result.text,
        finishReason: result.finishReason,
        usage: result.usage,
        provider: offline.id,
        model: OFFLINE_MODEL_ID,
        latencyMs: Math.round(performance.now() - started),
        routing: { reason: 'offline only', provider: offline.id, model: OFFLINE_MODEL_ID },
        attempts: 1,
      };
    },
  };
}

/**
 * Human handoff: a conversation a person takes over. The bot stops answering it (inbound messages are still stored
 * and shown to agents), the customer is told, and a handoff event is logged and POSTed, signed, to the tenant's
 * webhook URL if it configured one (net/outbound-webhooks.ts, in the background). Agents answer through the API
 * and hand the conversation back when done.
 */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { HandoffReason } from '../db/entities/conversation';
import type { Tenant } from '../db/entities/tenant';
import type { ResolvedTenant } from '../tenants/tenant-service';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { InteractionFeedbackService } from '../feedback/interaction-feedback-service';
import type { WebhookSender } from '../net/outbound-webhooks';

/** How long each attempt at a tenant's webhook may take; it never holds up the conversation. */
const WEBHOOK_TIMEOUT_MS = 5_000;

export type { HandoffReason };

/** Handoffs the customer asked for (typed, or the button offered after a 👎). */
const CUSTOMER_REASONS: ReadonlySet<HandoffReason> = new Set(['customer_asked', 'not_helpful_feedback']);

export interface HandoffEvent {
  type: 'conversation.handoff';
  tenant_id: string;
  conversation_id: string;
  interaction_id: string | null;
  reason: HandoffReason;
  customer: { whatsapp_address: string; profile_name: string | null };
  occurred_at: string;
}

export interface StartHandoffInput {
  tenant: Tenant;
  conversationId: string;
  /** The answer that led to the handoff (marked requested_human when the customer asked), when there is one. */
  interactionId: string | null;
  reason: HandoffReason;
}

/** Moves conversations into handoff and announces it. */
export class HandoffService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly feedback: InteractionFeedbackService,
    private readonly logger: Logger,
    private readonly webhooks: WebhookSender,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Puts the conversation in handoff and marks the answer that led to it (requested_human), through `manager`: the
   * transaction that stores the customer's notice, so a turn that is retried or loses its claim leaves no handoff
   * behind it. Returns the event to announce once that transaction has committed, or null when the conversation
   * already was in handoff.
   */
  async begin(manager: EntityManager, input: StartHandoffInput): Promise<HandoffEvent | null> {
    const { tenant, conversationId, interactionId, reason } = input;
    // Only the customer's own request is feedback on the answer before it (requested_human feeds routing rewards and
    // the handoff rate); a handoff the bot started after a failed or ungrounded answer is not the customer's verdict.
    if (interactionId && CUSTOMER_REASONS.has(reason)) await this.feedback.recordHumanRequest(tenant.id, interactionId, manager);
    const customer = await this.conversations.startHandoff(conversationId, tenant.id, reason, manager);
    if (!customer) return null;
    return {
      type: 'conversation.handoff',
      tenant_id: tenant.id,
      conversation_id: conversationId,
      interaction_id: interactionId,
      reason,
      customer: { whatsapp_address: customer.whatsapp_address, profile_name: customer.profile_name },
      occurred_at: this.now().toISOString(),
    };
  }

  /** After the handoff committed: logs it and POSTs the tenant's webhook if set (signed, in the background; never throws). */
  announce(resolved: Pick<ResolvedTenant, 'tenant' | 'settings'>, event: HandoffEvent): void {
    const tenantId = resolved.tenant.id;
    this.logger.info(
      { tenantId, conversationId: event.conversation_id, interactionId: event.interaction_id, reason: event.reason },
      'conversation handed off to a person',
    );
    // Validated settings: an invalid stored URL is no URL (no outbound call).
    const url = resolved.settings.handoffWebhookUrl;
    if (!url) return;
    this.webhooks.send({
      tenantId,
      url,
      event: event.type,
      payload: event,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      logFields: { conversationId: event.conversation_id },
    });
  }

  /** Waits for webhook deliveries in flight, retries included (shutdown, tests). */
  async settle(): Promise<void> {
    await this.webhooks.settle();
  }
}

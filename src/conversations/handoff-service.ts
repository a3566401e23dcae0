/**
 * Human handoff: a conversation a person takes over. The bot stops answering it (inbound messages are still stored
 * and shown to agents), the customer is told, and a handoff event is logged and POSTed to the tenant's webhook URL
 * if it configured one. Agents answer through the API and hand the conversation back when done.
 */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { Tenant } from '../db/entities/tenant';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { InteractionFeedbackService } from '../feedback/interaction-feedback-service';

/** How long a tenant's webhook may take; it never holds up the conversation. */
const WEBHOOK_TIMEOUT_MS = 5_000;

export type HandoffReason = 'customer_request' | 'button';

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
  /** The answer that led to the request (marked requested_human), when there is one. */
  interactionId: string | null;
  reason: HandoffReason;
}

/** Moves conversations into handoff and announces it. */
export class HandoffService {
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly feedback: InteractionFeedbackService,
    private readonly logger: Logger,
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
    if (interactionId) await this.feedback.recordHumanRequest(tenant.id, interactionId, manager);
    const customer = await this.conversations.startHandoff(conversationId, tenant.id, manager);
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

  /** After the handoff committed: logs it and POSTs the tenant's webhook if set (in the background; never throws). */
  announce(tenant: Tenant, event: HandoffEvent): void {
    this.logger.info({ tenantId: tenant.id, conversationId: event.conversation_id, interactionId: event.interaction_id, reason: event.reason }, 'conversation handed off to a person');
    const url = tenant.settings.handoffWebhookUrl;
    if (typeof url === 'string' && /^https?:\/\//.test(url)) this.track(this.deliver(url, event));
  }

  /** Waits for webhook deliveries in flight (shutdown, tests). */
  async settle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  private track(delivery: Promise<void>): void {
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  private async deliver(url: string, event: HandoffEvent): Promise<void> {
    const log = this.logger.child({ tenantId: event.tenant_id, conversationId: event.conversation_id });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) log.warn({ status: response.status }, 'handoff webhook answered with an error');
    } catch (error) {
      log.warn({ err: error }, 'handoff webhook could not be delivered');
    }
  }
}

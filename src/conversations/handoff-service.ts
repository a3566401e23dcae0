/**
 * Human handoff: a conversation a person takes over. The bot stops answering it (inbound messages are still stored
 * and shown to agents), the customer is told, and a handoff event is logged and POSTed to the tenant's webhook URL
 * if it configured one. Agents answer through the API and hand the conversation back when done.
 */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { Tenant } from '../db/entities/tenant';
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
    private readonly manager: EntityManager,
    private readonly feedback: InteractionFeedbackService,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Puts the conversation in handoff; true when this call did it (false when it already was). */
  async start(input: StartHandoffInput): Promise<boolean> {
    const { tenant, conversationId, interactionId, reason } = input;
    if (interactionId) await this.feedback.recordHumanRequest(tenant.id, interactionId);
    const [rows] = await this.manager.query(
      `UPDATE conversations SET status = 'handoff', updated_at = now()
       FROM customers WHERE conversations.id = $1 AND conversations.tenant_id = $2 AND conversations.status <> 'handoff'
         AND customers.id = conversations.customer_id
       RETURNING customers.whatsapp_address, customers.profile_name`,
      [conversationId, tenant.id],
    );
    const customer = (rows as Array<{ whatsapp_address: string; profile_name: string | null }>)[0];
    // A retried turn finds the conversation already in handoff and announces nothing twice.
    if (!customer) return false;
    const event: HandoffEvent = {
      type: 'conversation.handoff',
      tenant_id: tenant.id,
      conversation_id: conversationId,
      interaction_id: interactionId,
      reason,
      customer: { whatsapp_address: customer.whatsapp_address, profile_name: customer.profile_name },
      occurred_at: this.now().toISOString(),
    };
    this.logger.info({ tenantId: tenant.id, conversationId, interactionId, reason }, 'conversation handed off to a person');
    const url = tenant.settings.handoffWebhookUrl;
    if (typeof url === 'string' && /^https?:\/\//.test(url)) this.track(this.deliver(url, event));
    return true;
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

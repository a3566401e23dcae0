/** Twilio's delivery status callbacks applied to the tenant's stored outbound messages. */
import { DELIVERY_RANK, type OutboundStatus } from '../db/entities/message';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { MessageRepository } from '../db/repositories/message-repository';

/** One status callback, as Twilio posts it. */
export interface StatusCallback {
  /** Parley's message id, from the callback URL Parley gave Twilio (absent on callbacks for other sends). */
  messageId: string | null;
  messageSid: string;
  /** Twilio's status name; some (canceled, receiving, ...) are not delivery progress and change nothing. */
  status: string;
  errorCode: string | null;
  /** Whom the message went to (Twilio's To), when given. */
  to?: string | null;
}

/** Records delivery progress of outbound messages. */
export class DeliveryStatusService {
  constructor(
    private readonly messages: MessageRepository,
    private readonly conversations?: Pick<ConversationRepository, 'findByCustomerAddress' | 'agentReplied'>,
  ) {}

  /** Stores the SID when the send has not yet, then moves the message forward (never back) to the reported status. */
  async record(tenantId: string, callback: StatusCallback): Promise<void> {
    // The send may not have recorded the SID yet (the callback raced the response, or the sender crashed).
    if (callback.messageId) await this.messages.attachSid(callback.messageId, tenantId, callback.messageSid);
    else if (callback.to) await this.noticeForeignSend(tenantId, callback.messageSid, callback.to);
    if (!isDeliveryProgress(callback.status)) return;
    await this.messages.advanceDeliveryStatus(callback.messageSid, tenantId, callback.status, callback.errorCode);
  }

  /**
   * A callback without Parley's message id is for a send Parley did not make: a person answering from the business
   * number with another tool (Twilio's console, a shared inbox). When its SID is not one of ours and it went to a
   * customer of the tenant, that conversation is the person's now (agent_took_over): the bot stays silent.
   */
  private async noticeForeignSend(tenantId: string, messageSid: string, to: string): Promise<void> {
    if (!this.conversations) return;
    if ((await this.messages.findBySids([messageSid])).length > 0) return;
    const conversationId = await this.conversations.findByCustomerAddress(tenantId, to);
    if (conversationId) await this.conversations.agentReplied(conversationId, tenantId);
  }
}

/** Twilio statuses that move a message along (queued, sent, delivered, read, failed, ...); not our own 'pending'/'sending'. */
function isDeliveryProgress(status: string): status is OutboundStatus {
  return Object.hasOwn(DELIVERY_RANK, status) && DELIVERY_RANK[status as OutboundStatus] > 0 && status !== 'simulated';
}

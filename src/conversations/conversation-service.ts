/** What human agents do with a conversation: write to the customer and hand the conversation back to the bot. */
import type { EntityManager } from 'typeorm';
import { Message } from '../db/entities/message';
import { conflict, notFound } from '../http/errors';
import type { OutboundSender } from '../whatsapp/outbound-sender';

export interface AgentMessageInput {
  tenantId: string;
  conversationId: string;
  userId: string;
  body: string;
}

/** Agent-side conversation commands, always scoped to one tenant. */
export class ConversationService {
  constructor(
    private readonly manager: EntityManager,
    private readonly sender: OutboundSender,
  ) {}

  /**
   * Queues an agent's message as a pending outbound row (recorded as from that user) and sends it through the
   * tenant's transport at once; a transient failure leaves it pending for the sender's retries. 404 when unknown.
   */
  async sendAgentMessage(input: AgentMessageInput): Promise<Message> {
    const rows: unknown[] = await this.manager.query('SELECT 1 FROM conversations WHERE id = $1 AND tenant_id = $2', [input.conversationId, input.tenantId]);
    if (rows.length === 0) throw notFound('Conversation');
    const message = await this.manager.save(
      this.manager.create(Message, {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        direction: 'outbound',
        author: 'agent',
        authorUserId: input.userId,
        body: input.body,
        status: 'pending',
      }),
    );
    await this.sender.sendPending(input.conversationId);
    return this.manager.findOneByOrFail(Message, { id: message.id });
  }

  /** Gives a conversation in handoff back to the bot; 404 when unknown, 409 when it is not in handoff. */
  async handBack(tenantId: string, conversationId: string): Promise<void> {
    const [updated] = await this.manager.query(
      `UPDATE conversations SET status = 'active', updated_at = now()
       WHERE id = $1 AND tenant_id = $2 AND status = 'handoff' RETURNING id`,
      [conversationId, tenantId],
    );
    if ((updated as unknown[]).length > 0) return;
    const [existing] = await this.manager.query('SELECT status FROM conversations WHERE id = $1 AND tenant_id = $2', [conversationId, tenantId]);
    if (!existing) throw notFound('Conversation');
    throw conflict(`The conversation is ${existing.status as string}, not in handoff`);
  }
}

/** The API shape of a message. */
export function presentMessage(message: Message) {
  return {
    id: message.id,
    conversation_id: message.conversationId,
    direction: message.direction,
    author: message.author,
    author_user_id: message.authorUserId,
    body: message.body,
    status: message.status,
    // Set when Twilio refused the send for good (63016: the customer's 24-hour window has closed).
    error_code: message.errorCode,
    created_at: message.createdAt,
  };
}

/** What human agents do with conversations: list and read them, write to the customer, hand them back to the bot. */
import type { ConversationStatus } from '../db/entities/conversation';
import type { Message } from '../db/entities/message';
import type { ConversationRepository, ConversationSummary } from '../db/repositories/conversation-repository';
import type { MessageRepository, ThreadMessage } from '../db/repositories/message-repository';
import { conflict, notFound } from '../http/errors';
import type { OutboundSender } from '../whatsapp/outbound-sender';

export interface AgentMessageInput {
  tenantId: string;
  conversationId: string;
  userId: string;
  body: string;
}

/** How many of a conversation's latest messages a thread shows. */
const THREAD_LIMIT = 200;

/** Agent-side conversation commands and reads, always scoped to one tenant. */
export class ConversationService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly sender: OutboundSender,
  ) {}

  /** The tenant's conversations, most recently active first, optionally of one status or flagged only. */
  list(tenantId: string, filter: { status?: ConversationStatus; flagged?: boolean }, limit: number): Promise<ConversationSummary[]> {
    return this.conversations.list(tenantId, filter, limit);
  }

  /** One conversation of the tenant with its latest messages, oldest first; 404 when unknown. */
  async thread(tenantId: string, conversationId: string): Promise<{ conversation: ConversationSummary; messages: ThreadMessage[] }> {
    const conversation = await this.conversations.findSummary(conversationId, tenantId);
    if (!conversation) throw notFound('Conversation');
    return { conversation, messages: await this.messages.thread(conversationId, tenantId, THREAD_LIMIT) };
  }

  /**
   * Queues an agent's message as a pending outbound row (recorded as from that user) and sends it through the
   * tenant's transport at once; a transient failure leaves it pending for the sender's retries. 404 when unknown.
   */
  async sendAgentMessage(input: AgentMessageInput): Promise<Message> {
    if (!(await this.conversations.exists(input.conversationId, input.tenantId))) throw notFound('Conversation');
    const message = await this.messages.insertAgentMessage(input);
    // A person has answered: whatever the conversation was flagged for has been seen.
    await this.conversations.clearFlag(input.conversationId, input.tenantId);
    await this.sender.sendPending(input.conversationId);
    return this.messages.findById(message.id);
  }

  /** Gives a conversation in handoff back to the bot; 404 when unknown, 409 when it is not in handoff. */
  async handBack(tenantId: string, conversationId: string): Promise<void> {
    const outcome = await this.conversations.endHandoff(conversationId, tenantId);
    if (!outcome) throw notFound('Conversation');
    if (!outcome.handedBack) throw conflict(`The conversation is ${outcome.status}, not in handoff`);
    await this.conversations.clearFlag(conversationId, tenantId);
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
    transcribed: message.transcribed ?? false,
    status: message.status,
    // Set when Twilio refused the send for good (63016: the customer's 24-hour window has closed).
    error_code: message.errorCode,
    created_at: message.createdAt,
  };
}

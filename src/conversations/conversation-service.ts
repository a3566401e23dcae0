/** What human agents do with conversations: list and read them, write to the customer, hand them back to the bot. */
import type { ConversationStatus } from '../db/entities/conversation';
import type { Message } from '../db/entities/message';
import type { ConversationRepository, ConversationSummary } from '../db/repositories/conversation-repository';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import type { MessageRepository, ThreadMessage } from '../db/repositories/message-repository';
import type { PassageSource } from '../knowledge/passage-sources';
import { AppError, conflict, notFound } from '../http/errors';
import type { TenantService } from '../tenants/tenant-service';
import type { OutboundSender } from '../whatsapp/outbound-sender';

/** WhatsApp accepts free-form messages only this long after the customer's last message; then only templates. */
export const WHATSAPP_WINDOW_MS = 24 * 60 * 60_000;

/** Readable explanations of Twilio's error codes Parley stores on messages (shown by the API and the dashboard). */
const ERROR_EXPLANATIONS: Readonly<Record<string, string>> = {
  '63016':
    "Not delivered: more than 24 hours have passed since the customer's last message, and WhatsApp then accepts only an approved template",
  '63032': "Not delivered: WhatsApp does not let this business message reach this user (a restriction on the user's account)",
  '21610': 'Not delivered: the customer unsubscribed (opted out); they can write START to resume',
  opted_out: 'Not sent: the customer opted out of messages; they can write START to resume',
  agent_took_over: 'Not sent: a person took the conversation over before this bot message went out',
};

/** A readable reason for a stored error code, or null when there is none to explain. */
export function explainErrorCode(code: string | null): string | null {
  if (!code) return null;
  return ERROR_EXPLANATIONS[code] ?? null;
}

export interface AgentMessageInput {
  tenantId: string;
  conversationId: string;
  userId: string;
  body: string;
}

/** What a thread needs to show the sources under each bot answer. */
export interface AnswerSources {
  interactions: Pick<AgentInteractionRepository, 'chunkIdsOfReplies'>;
  /** The knowledge layer's description of passages (knowledge/passage-sources.ts). */
  describe(tenantId: string, chunkIds: readonly string[]): Promise<Map<string, PassageSource>>;
}

/** A thread's message, with the sources of a bot answer grounded on the tenant's knowledge. */
export type ThreadWithSources = ThreadMessage & { sources?: PassageSource[] };

/** How many of a conversation's latest messages a thread shows. */
const THREAD_LIMIT = 200;

/** Agent-side conversation commands and reads, always scoped to one tenant. */
export class ConversationService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly sender: OutboundSender,
    private readonly tenants: Pick<TenantService, 'findById'>,
    private readonly sources: AnswerSources,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The tenant's conversations, most recently active first, optionally of one status or flagged only. */
  list(tenantId: string, filter: { status?: ConversationStatus; flagged?: boolean }, limit: number): Promise<ConversationSummary[]> {
    return this.conversations.list(tenantId, filter, limit);
  }

  /** One conversation of the tenant with its latest messages, oldest first; 404 when unknown. */
  async thread(tenantId: string, conversationId: string): Promise<{ conversation: ConversationSummary; messages: ThreadWithSources[] }> {
    const conversation = await this.conversations.findSummary(conversationId, tenantId);
    if (!conversation) throw notFound('Conversation');
    const messages = await this.messages.thread(conversationId, tenantId, THREAD_LIMIT);
    // Under each bot answer, the passages it was grounded on (a supervisor sees what the bot read before answering).
    const chunkIdsByReply = await this.sources.interactions.chunkIdsOfReplies(
      tenantId,
      messages.filter((message) => message.author === 'bot').map((message) => message.id),
    );
    const described = await this.sources.describe(tenantId, [...chunkIdsByReply.values()].flat());
    return {
      conversation,
      messages: messages.map((message) => {
        const chunkIds = chunkIdsByReply.get(message.id);
        return chunkIds ? { ...message, sources: chunkIds.flatMap((id) => described.get(id) ?? []) } : message;
      }),
    };
  }

  /**
   * Queues an agent's message as a pending outbound row (recorded as from that user) and sends it through the
   * tenant's transport at once; a transient failure leaves it pending for the sender's retries. 404 when unknown.
   */
  async sendAgentMessage(input: AgentMessageInput): Promise<Message> {
    if (!(await this.conversations.exists(input.conversationId, input.tenantId))) throw notFound('Conversation');
    if (await this.conversations.customerOptedOut(input.conversationId, input.tenantId)) {
      throw new AppError(
        409,
        'customer_opted_out',
        'The customer opted out of messages (they wrote STOP, or Twilio reported them unsubscribed); nothing can be sent until they write START',
      );
    }
    const template = await this.outsideWindowTemplate(input);
    const message = await this.messages.insertAgentMessage({ ...input, ...template });
    // The conversation is the agent's now: the bot stays silent until it is handed back or the agent is idle long enough.
    await this.conversations.agentReplied(input.conversationId, input.tenantId);
    // A person has answered: whatever the conversation was flagged for has been seen.
    await this.conversations.clearFlag(input.conversationId, input.tenantId);
    await this.sender.sendPending(input.conversationId);
    return this.messages.findById(message.id);
  }

  /**
   * Inside WhatsApp's 24-hour window, nothing (a free-form message). Outside it, the tenant's approved template
   * (whatsapp.outsideWindowTemplate), its variables with "{{body}}" replaced by the agent's text; without one, 409.
   */
  private async outsideWindowTemplate(
    input: AgentMessageInput,
  ): Promise<{ contentSid?: string; contentVariables?: Record<string, string> }> {
    const lastCustomerMessage = await this.conversations.lastCustomerMessageAt(input.conversationId);
    if (lastCustomerMessage && this.now().getTime() - lastCustomerMessage.getTime() < WHATSAPP_WINDOW_MS) return {};
    const resolved = await this.tenants.findById(input.tenantId);
    const template = resolved?.settings.whatsapp?.outsideWindowTemplate;
    if (!template) {
      throw new AppError(
        409,
        'outside_whatsapp_window',
        lastCustomerMessage
          ? `The customer last wrote ${lastCustomerMessage.toISOString()}, more than 24 hours ago: WhatsApp then accepts only an approved template, and this tenant has none configured (settings.whatsapp.outsideWindowTemplate)`
          : 'The customer has never written in this conversation: WhatsApp accepts only an approved template, and this tenant has none configured (settings.whatsapp.outsideWindowTemplate)',
      );
    }
    const contentVariables = Object.fromEntries(
      Object.entries(template.variables).map(([name, value]) => [name, value.replaceAll('{{body}}', input.body)]),
    );
    return { contentSid: template.contentSid, contentVariables };
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
    // Set when Twilio refused the send for good (63016: the customer's 24-hour window has closed), or Parley held it
    // back (opted_out, agent_took_over); `error` says it in words.
    error_code: message.errorCode,
    error: explainErrorCode(message.errorCode),
    content_sid: message.contentSid,
    created_at: message.createdAt,
  };
}

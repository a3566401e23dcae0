/**
 * Decides what an inbound message gets: a reply from the agent, or nothing (a conversation a human has taken over).
 * Later features (feedback buttons, handoff) plug in here, before the agent is asked.
 */
import type { StartHandoffInput } from '../conversations/handoff-service';
import type { Conversation } from '../db/entities/conversation';
import type { Message, OfferedChoice } from '../db/entities/message';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { chunkText } from '../whatsapp/chunk-text';
import type { Agent, AgentAnswer } from './agent';
import { UNSUPPORTED_MEDIA_FLAG, unsupportedMediaReply } from './unsupported-media';

export interface OutboundPart {
  body: string;
  contentSid?: string;
  contentVariables?: Record<string, string>;
  /** Buttons or numbered options the part offers (stored, so a typed "1" can be matched later). */
  choices?: OfferedChoice[];
}

export type TurnOutcome =
  /**
   * `handoff`: put the conversation in handoff in the same transaction that stores the parts; `flag`: flag it for a
   * person (the bot keeps answering), likewise.
   */
  | { kind: 'reply'; parts: OutboundPart[]; answer?: AgentAnswer; handoff?: StartHandoffInput; flag?: { reason: string } }
  | { kind: 'skip'; reason: string };

export interface TurnContext {
  tenant: ResolvedTenant;
  conversation: Conversation;
  inbound: Message;
}

export interface TurnHandler {
  handle(context: TurnContext): Promise<TurnOutcome>;
}

/** The default turn: skip conversations in handoff, otherwise ask the agent and split long answers. */
export class AgentTurnHandler implements TurnHandler {
  constructor(private readonly agent: Agent) {}

  async handle({ tenant, conversation, inbound }: TurnContext): Promise<TurnOutcome> {
    if (conversation.status === 'handoff') return { kind: 'skip', reason: 'conversation is in handoff' };
    if (inbound.body.trim() === '' && inbound.media.length === 0) return { kind: 'skip', reason: 'empty message' };
    if (inbound.body.trim() === '') {
      // A voice note or a photo alone: no model sees an empty turn (it would answer something generic).
      const history = await this.agent.loadHistory(inbound);
      const earlierText = history
        .filter((message) => message.role === 'user')
        .map((message) => message.content)
        .join('\n');
      return {
        kind: 'reply',
        parts: [{ body: unsupportedMediaReply(earlierText, tenant.settings.language) }],
        flag: { reason: UNSUPPORTED_MEDIA_FLAG },
      };
    }
    const answer = await this.agent.respond(tenant, inbound, conversation);
    return { kind: 'reply', parts: chunkText(answer.text).map((body) => ({ body })), answer };
  }
}

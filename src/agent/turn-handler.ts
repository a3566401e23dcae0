/**
 * Decides what an inbound message gets: a reply from the agent, or nothing (a conversation a human has taken over).
 * Later features (feedback buttons, handoff) plug in here, before the agent is asked.
 */
import type { StartHandoffInput } from '../conversations/handoff-service';
import type { Conversation } from '../db/entities/conversation';
import type { Message, OfferedChoice } from '../db/entities/message';
import type { HistoryMessage } from '../db/repositories/message-repository';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { chunkText } from '../whatsapp/chunk-text';
import type { Agent, AgentAnswer } from './agent';
import { OFFLINE_PROVIDER_ID } from '../llm/providers/offline/offline-provider';
import type { MediaUnderstander, MediaUnderstanding } from '../whatsapp/media/media-understanding';
import { UNSUPPORTED_MEDIA_FLAG, type UnsupportedMediaReason, unsupportedMediaReply } from './unsupported-media';

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
  (
    | {
        kind: 'reply';
        parts: OutboundPart[];
        answer?: AgentAnswer;
        handoff?: StartHandoffInput;
        flag?: { reason: string };
        /** The customer opted out or in (conversations/consent.ts): recorded with the confirmation, in one transaction. */
        consent?: { state: 'opted_out' | 'opted_in'; source: string };
        /** The agent's idle time passed: the conversation goes back to the bot, unless the agent wrote since then. */
        resume?: { agentRepliedAt: Date };
      }
    | { kind: 'skip'; reason: string }
  ) & {
    /**
     * The message continues the conversation's previous answer (not a button tap): an implicit feedback signal,
     * stored with the turn, counted when the message came within `windowSeconds` of that answer's reply.
     */
    continuation?: { windowSeconds: number };
  };

export interface TurnContext {
  tenant: ResolvedTenant;
  conversation: Conversation;
  /** The message to answer; for a burst, its messages combined (whatsapp/burst.ts: the text of each, all media). */
  inbound: Message;
  /** The messages after the first of a burst, as received (empty when the turn answers one message). */
  burst?: readonly Message[];
  /** Every message of the turn as received, the first included. */
  messages?: readonly Message[];
  /** The customer has opted out of messages (conversations/consent.ts). */
  customerOptedOut?: boolean;
  /**
   * The options the latest outbound message before this one offered, loaded with the turn (a typed "1" can answer
   * them); undefined when the caller did not load them, and the feedback handler then looks them up.
   */
  lastOfferedChoices?: OfferedChoice[] | null;
  /**
   * The conversation as the customer saw it before this turn, newest first, loaded with the turn; undefined when the
   * caller did not load it, and the agent then reads it itself.
   */
  history?: readonly HistoryMessage[];
}

export interface TurnHandler {
  handle(context: TurnContext): Promise<TurnOutcome>;
}

/** The default turn: skip conversations in handoff, otherwise ask the agent and split long answers. */
export class AgentTurnHandler implements TurnHandler {
  constructor(
    private readonly agent: Agent,
    /** The media step (voice notes, photos, documents); without it media-only messages get the honest reply. */
    private readonly media?: Pick<MediaUnderstander, 'understandMedia'>,
  ) {}

  async handle(context: TurnContext): Promise<TurnOutcome> {
    const { tenant, conversation, inbound } = context;
    if (conversation.status === 'handoff') return { kind: 'skip', reason: 'conversation is in handoff' };
    if (inbound.body.trim() === '' && inbound.media.length === 0) return { kind: 'skip', reason: 'empty message' };
    // Issue 20, the media step: before the agent runs, voice notes are transcribed (the transcript becomes the
    // message's text), photos are fetched for a vision model, documents are acknowledged; what no provider can
    // handle gets the honest reply below and a flag (whatsapp/media/media-understanding.ts).
    const understood: MediaUnderstanding = this.media ? await this.media.understandMedia(context) : { kind: 'none' };
    if (understood.kind === 'reply') return this.unsupported(context, understood.reason, understood.flag);
    const text = understood.kind === 'agent' ? understood.text : inbound.body;
    const images = understood.kind === 'agent' ? understood.images : [];
    // A voice note or a photo alone that nothing understood: no model sees an empty turn (it would answer something generic).
    if (text.trim() === '' && images.length === 0) return this.unsupported(context, 'media', UNSUPPORTED_MEDIA_FLAG);
    const asked =
      text === inbound.body ? inbound : Object.assign(Object.create(Object.getPrototypeOf(inbound)) as Message, inbound, { body: text });
    // A photo's description for the record is written alongside the answer, never before it.
    const describing = understood.kind === 'agent' ? understood.describing : undefined;
    const [answer] = await Promise.all([this.agent.respond(tenant, asked, conversation, { images, history: context.history }), describing]);
    // Every vision model failed and the offline answerer replied: it never saw the photo, so say so honestly.
    if (images.length > 0 && answer.provider === OFFLINE_PROVIDER_ID) return this.unsupported(context, 'image', UNSUPPORTED_MEDIA_FLAG);
    const flag = understood.kind === 'agent' && understood.flag ? { flag: { reason: understood.flag } } : {};
    // The agent found nothing to ground an answer on, or every model failed: its text tells the customer a person
    // takes over, and the handoff is stored with it (the processor's commit).
    const handoff = answer.handoffReason
      ? {
          handoff: {
            tenant: tenant.tenant,
            conversationId: conversation.id,
            interactionId: answer.interactionId,
            reason: answer.handoffReason,
          },
        }
      : {};
    return { kind: 'reply', parts: chunkText(answer.text).map((body) => ({ body })), answer, ...flag, ...handoff };
  }

  /** The honest reply to media the bot could not understand, in the customer's language, with the flag for a person. */
  private async unsupported(context: TurnContext, reason: UnsupportedMediaReason, flag: string): Promise<TurnOutcome> {
    const { tenant, inbound } = context;
    const history = await this.agent.loadHistory(inbound, context.history);
    // The customer's own words only: the history's media notes ("[Photo]") are English whatever the customer speaks.
    const earlierText = [...history.filter((message) => message.role === 'user').map((message) => message.content), inbound.body]
      .flatMap((content) => content.split('\n'))
      .filter((line) => !/^\[.*\]$/.test(line.trim()))
      .join('\n');
    return {
      kind: 'reply',
      parts: [{ body: unsupportedMediaReply(earlierText, tenant.settings.language, reason) }],
      flag: { reason: flag },
    };
  }
}

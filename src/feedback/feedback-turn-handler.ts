/**
 * The feedback layer of a turn, wrapped around the agent's turn handler: button clicks (or their typed text
 * fallback) are recorded without asking the model, requests for a person start a handoff, every other message
 * marks the previous answer as continued, and answers get 👍/👎 buttons per the tenant's setting.
 */
import type { Logger } from 'pino';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import type { MessageRepository } from '../db/repositories/message-repository';
import type { OutboundPart, TurnContext, TurnHandler, TurnOutcome } from '../agent/turn-handler';
import type { ResolvedTenant } from '../tenants/tenant-service';
import type { ContentTemplates } from '../whatsapp/content-templates';
import { quickReply, RICH_MESSAGE_LIMITS, toTextFallback, type RichMessage } from '../whatsapp/rich-message';
import {
  buttonChoices,
  type ButtonClick,
  DEFAULT_HANDOFF_MESSAGE,
  FEEDBACK_PROMPT,
  isParleyPayload,
  matchTypedChoice,
  MAX_TYPED_CHOICE_LENGTH,
  readButtonPayload,
  SORRY_NOT_HELPFUL,
  THANKS_HELPFUL,
  wantsFeedbackButtons,
} from './feedback-buttons';
import { isHumanRequest } from './human-request';
import type { InteractionFeedbackService } from './interaction-feedback-service';
import { CONTINUATION_WINDOW_SECONDS } from './satisfaction';

type Click = { kind: 'none' } | { kind: 'invalid' } | ButtonClick;

export interface FeedbackTurnDependencies {
  messages: MessageRepository;
  interactions: AgentInteractionRepository;
  feedback: InteractionFeedbackService;
  contentTemplates: ContentTemplates;
  /** HMAC key of feedback tokens (feedbackTokenKey). */
  tokenKey: Buffer;
  logger: Logger;
}

/** Handles clicks, handoff and implicit signals; everything else goes to `inner` (the agent). */
export class FeedbackTurnHandler implements TurnHandler {
  constructor(
    private readonly inner: TurnHandler,
    private readonly deps: FeedbackTurnDependencies,
  ) {}

  async handle(context: TurnContext): Promise<TurnOutcome> {
    const click = await this.readClick(context);
    const outcome = await this.decide(context, click);
    // Every other message continues the previous answer; the signal is stored with the turn (finishTurn).
    return click.kind === 'none' ? { ...outcome, continuation: { windowSeconds: CONTINUATION_WINDOW_SECONDS } } : outcome;
  }

  private async decide(context: TurnContext, click: Click): Promise<TurnOutcome> {
    const { tenant, conversation, inbound } = context;
    if (click.kind === 'invalid') {
      // Only our buttons produce a "parley:" payload; one that fails verification is forged, for another tenant or
      // conversation, or signed with a retired key. It is stored (never lost) but neither recorded nor answered.
      this.deps.logger.warn(
        { tenantId: tenant.tenant.id, conversationId: conversation.id, messageId: inbound.id },
        'rejected a button payload that does not verify',
      );
      return { kind: 'skip', reason: 'invalid button payload' };
    }
    if (click.kind === 'feedback') {
      await this.deps.feedback.recordRating({
        tenantId: tenant.tenant.id,
        interactionId: click.interactionId,
        rating: click.rating,
        source: 'whatsapp_button',
        metadata: { button_message_id: inbound.id },
      });
    }
    if (conversation.status === 'handoff') return { kind: 'skip', reason: 'conversation is in handoff' };
    if (click.kind === 'feedback') return this.confirm(tenant, click);
    if (click.kind === 'human' || isHumanRequest(inbound.body)) {
      const interactionId = click.kind === 'human' ? click.interactionId : await this.deps.feedback.findPreviousInteractionId(inbound);
      const message = tenant.settings.handoffMessage ?? DEFAULT_HANDOFF_MESSAGE;
      // The handoff itself is stored with the notice, in the processor's commit: nothing happens if the turn is lost.
      const handoff = {
        tenant: tenant.tenant,
        conversationId: conversation.id,
        interactionId,
        // The "Talk to a person" button is offered after a 👎 (SORRY_NOT_HELPFUL); typing the request is asking.
        reason: click.kind === 'human' ? ('not_helpful_feedback' as const) : ('customer_asked' as const),
      };
      return { kind: 'reply', parts: [{ body: message }], handoff };
    }
    const outcome = await this.inner.handle(context);
    // A notice that a person takes over is not an answer to rate.
    if (outcome.kind !== 'reply' || !outcome.answer || outcome.handoff) return outcome;
    return { ...outcome, parts: await this.withFeedbackButtons(tenant, conversation.id, outcome.answer.interactionId, outcome.parts) };
  }

  /** A ButtonPayload, or a typed "1"/title/emoji answering the options of the last message we sent. */
  private async readClick({ tenant, conversation, inbound, lastOfferedChoices }: TurnContext): Promise<Click> {
    const tenantId = tenant.tenant.id;
    let payload = inbound.buttonPayload;
    // Only a short text can pick an option ("1", "👍", a title); longer ones skip the lookup.
    if (!payload && inbound.body.trim().length <= MAX_TYPED_CHOICE_LENGTH) {
      const offered =
        lastOfferedChoices !== undefined ? lastOfferedChoices : await this.deps.messages.lastOfferedChoices(conversation.id, inbound.seq);
      payload = offered ? (matchTypedChoice(inbound.body, offered)?.id ?? null) : null;
    }
    if (!payload || !isParleyPayload(payload)) return { kind: 'none' };
    const click = readButtonPayload(this.deps.tokenKey, tenantId, payload);
    if (!click) return { kind: 'invalid' };
    // A valid token of this tenant still names an interaction of this conversation only.
    const ownAnswer = await this.deps.interactions.belongsToConversation(click.interactionId, tenantId, conversation.id);
    return ownAnswer ? click : { kind: 'invalid' };
  }

  /** The short answer to a rating; a 👎 offers a person. */
  private async confirm(tenant: ResolvedTenant, click: Extract<ButtonClick, { kind: 'feedback' }>): Promise<TurnOutcome> {
    if (click.rating === 'helpful') return { kind: 'reply', parts: [{ body: THANKS_HELPFUL }] };
    const offer = quickReply(SORRY_NOT_HELPFUL, this.buttons(tenant, click.interactionId, ['human']));
    return { kind: 'reply', parts: [await this.render(tenant, offer, 'handoff_offer')] };
  }

  /** Adds 👍/👎 to the answer's last part (or as a short extra message when that part is too long for buttons). */
  private async withFeedbackButtons(
    tenant: ResolvedTenant,
    conversationId: string,
    interactionId: string,
    parts: OutboundPart[],
  ): Promise<OutboundPart[]> {
    const last = parts[parts.length - 1];
    if (!last || last.contentSid || (last.choices && last.choices.length > 0)) return parts;
    const { settings } = tenant;
    // The answer's number in the conversation matters only for "every Nth"; the other settings skip the count.
    const everyNth = typeof settings.feedbackButtons === 'object' && settings.feedbackButtons !== null;
    const answerNumber = everyNth ? (await this.deps.interactions.countInConversation(conversationId)) + 1 : 1;
    if (!wantsFeedbackButtons(settings, answerNumber)) return parts;
    const buttons = this.buttons(tenant, interactionId, ['helpful', 'not_helpful']);
    if ([...last.body].length <= RICH_MESSAGE_LIMITS.bodyLength) {
      return [...parts.slice(0, -1), await this.render(tenant, quickReply(last.body, buttons), 'feedback')];
    }
    return [...parts, await this.render(tenant, quickReply(FEEDBACK_PROMPT, buttons), 'feedback')];
  }

  private buttons(tenant: ResolvedTenant, interactionId: string, actions: Parameters<typeof buttonChoices>[3]) {
    return buttonChoices(this.deps.tokenKey, tenant.tenant.id, interactionId, actions);
  }

  /** Real buttons through a content resource when one can be had, else the numbered text fallback. */
  private async render(tenant: ResolvedTenant, message: RichMessage, configuredName: string): Promise<OutboundPart> {
    const choices = message.kind === 'quick_reply' ? message.buttons.map(({ id, title }) => ({ id, title })) : [];
    const reference = await this.deps.contentTemplates.resolve(tenant, message, configuredName);
    if (reference) return { body: message.body, contentSid: reference.contentSid, contentVariables: reference.contentVariables, choices };
    return { body: toTextFallback(message), choices };
  }
}

/**
 * The outermost layer of a turn: who may write to the customer at all.
 * - Consent: an opt-out keyword stops every bot and agent-initiated message (confirmed once); START resumes
 *   (confirmed); while opted out, nothing is answered.
 * - Ownership: a conversation a human agent wrote in is theirs; the bot stays silent (the inner handlers skip a
 *   conversation in handoff) until it is handed back, or until the tenant's idle time (whatsapp.agentIdleMinutes,
 *   default 60) has passed since the agent's last message, when the bot answers again and the conversation is active.
 */
import type { TurnContext, TurnHandler, TurnOutcome } from '../agent/turn-handler';
import { readConsentKeyword } from './consent';
import { optedInConfirmation, optedOutConfirmation } from './consent-texts';

/** Minutes after an agent's last message before the bot answers again, unless the tenant sets its own. */
export const DEFAULT_AGENT_IDLE_MINUTES = 60;

export class ConversationRulesTurnHandler implements TurnHandler {
  constructor(
    private readonly inner: TurnHandler,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(context: TurnContext): Promise<TurnOutcome> {
    const { tenant, conversation } = context;
    const whatsapp = tenant.settings.whatsapp ?? {};
    const language = tenant.settings.language ?? 'en';
    const messages = context.messages ?? [context.inbound];
    // The turn's last keyword wins ("STOP" then "START" in one burst resumes).
    const keyword = messages
      .map((message) => readConsentKeyword(message.body, whatsapp.optOutKeywords))
      .filter((found) => found !== null)
      .at(-1);
    const optedOut = context.customerOptedOut === true;
    if (keyword?.kind === 'opt_out') {
      // Confirmed once: a second STOP gets nothing.
      if (optedOut) return { kind: 'skip', reason: 'customer already opted out' };
      return {
        kind: 'reply',
        parts: [{ body: optedOutConfirmation(keyword.language ?? language) }],
        consent: { state: 'opted_out', source: 'keyword' },
      };
    }
    if (keyword?.kind === 'opt_in' && optedOut) {
      return { kind: 'reply', parts: [{ body: optedInConfirmation(language) }], consent: { state: 'opted_in', source: 'start_keyword' } };
    }
    if (optedOut) return { kind: 'skip', reason: 'customer opted out' };
    if (conversation.status === 'handoff' && conversation.agentRepliedAt) {
      const idleMs = (whatsapp.agentIdleMinutes ?? DEFAULT_AGENT_IDLE_MINUTES) * 60_000;
      if (this.now().getTime() - conversation.agentRepliedAt.getTime() >= idleMs) {
        // The agent has been silent for the idle time: the bot answers again, and the commit ends the handoff
        // (only if no agent wrote meanwhile).
        const active = Object.assign(Object.create(Object.getPrototypeOf(conversation)), conversation, { status: 'active' });
        const outcome = await this.inner.handle({ ...context, conversation: active });
        return outcome.kind === 'reply' ? { ...outcome, resume: { agentRepliedAt: conversation.agentRepliedAt } } : outcome;
      }
    }
    return this.inner.handle(context);
  }
}

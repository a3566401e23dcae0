/**
 * The buttons Parley adds to its own messages: 👍/👎 after an answer and "Talk to a person" after a 👎. Each
 * button's payload carries the action and a signed feedback token, so a click names one interaction of one tenant.
 */
import type { FeedbackRating } from '../db/entities/interaction-feedback';
import type { OfferedChoice } from '../db/entities/message';
import type { StoredTenantSettings } from '../tenants/tenant-settings';
import { issueFeedbackToken, verifyFeedbackToken } from './feedback-token';

const PREFIX = 'parley';
const ACTIONS = { helpful: 'helpful', not_helpful: 'not_helpful', human: 'human' } as const;
export type ButtonAction = keyof typeof ACTIONS;

export const BUTTON_TITLES: Record<ButtonAction, string> = {
  helpful: '👍 Helpful',
  not_helpful: '👎 Not helpful',
  human: '🙋 Talk to a person',
};

export const FEEDBACK_PROMPT = 'Was this answer helpful?';
export const THANKS_HELPFUL = 'Thanks for your feedback! 🙏';
export const SORRY_NOT_HELPFUL = "Sorry that didn't help. Would you like to talk to a person?";
export const DEFAULT_HANDOFF_MESSAGE = 'Thanks for waiting. A person from our team will reply here as soon as possible.';

/** What a button press means once its token is verified. */
export type ButtonClick = { kind: 'feedback'; rating: FeedbackRating; interactionId: string } | { kind: 'human'; interactionId: string };

/** The payload of one of our buttons. */
export function buttonPayload(key: Buffer, tenantId: string, interactionId: string, action: ButtonAction): string {
  return `${PREFIX}:${ACTIONS[action]}:${issueFeedbackToken(key, tenantId, interactionId)}`;
}

/** The choices of a button set for one interaction. */
export function buttonChoices(key: Buffer, tenantId: string, interactionId: string, actions: ButtonAction[]): OfferedChoice[] {
  return actions.map((action) => ({ id: buttonPayload(key, tenantId, interactionId, action), title: BUTTON_TITLES[action] }));
}

/** True when a payload claims to be one of ours (whether or not it verifies). */
export function isParleyPayload(payload: string): boolean {
  return payload.startsWith(`${PREFIX}:`);
}

/** The click a payload stands for, when it is ours and its token was issued for this tenant; null otherwise. */
export function readButtonPayload(key: Buffer, tenantId: string, payload: string): ButtonClick | null {
  const [prefix, action, token, ...rest] = payload.split(':');
  if (prefix !== PREFIX || token === undefined || rest.length > 0) return null;
  const interactionId = verifyFeedbackToken(key, tenantId, token);
  if (!interactionId) return null;
  if (action === ACTIONS.helpful) return { kind: 'feedback', rating: 'helpful', interactionId };
  if (action === ACTIONS.not_helpful) return { kind: 'feedback', rating: 'not_helpful', interactionId };
  if (action === ACTIONS.human) return { kind: 'human', interactionId };
  return null;
}

/** Longer texts are messages, not a typed option. */
export const MAX_TYPED_CHOICE_LENGTH = 40;

/** Emoji variation selectors and skin tones, which WhatsApp may add to a typed 👍. */
const EMOJI_DECORATION = /[\u{FE0F}\u{1F3FB}-\u{1F3FF}]/gu;

function simplify(text: string): string {
  return text.replace(EMOJI_DECORATION, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The choice a typed reply picks from a text fallback: its number, its title, the title's words or its emoji. */
export function matchTypedChoice(text: string, choices: OfferedChoice[]): OfferedChoice | null {
  const typed = simplify(text).replace(/[.!)]+$/, '');
  if (typed === '' || typed.length > MAX_TYPED_CHOICE_LENGTH) return null;
  const index = /^\d{1,2}$/.test(typed) ? Number(typed) - 1 : -1;
  if (index >= 0) return choices[index] ?? null;
  for (const choice of choices) {
    const title = simplify(choice.title);
    const [first, ...words] = title.split(' ');
    // A title starting with an emoji ("👍 helpful") also matches its words alone or the emoji alone.
    const startsWithSymbol = first !== undefined && !/[\p{L}\p{N}]/u.test(first);
    const candidates = startsWithSymbol ? [title, words.join(' '), first] : [title];
    if (candidates.includes(typed)) return choice;
  }
  return null;
}

/** Whether the Nth bot answer of a conversation gets 👍/👎 buttons, per the tenant's setting (default: always). */
export function wantsFeedbackButtons(settings: Pick<StoredTenantSettings, 'feedbackButtons'>, answerNumber: number): boolean {
  const frequency = settings.feedbackButtons;
  if (frequency === 'never') return false;
  if (typeof frequency !== 'object' || frequency === null) return true;
  const every = Math.floor(Number(frequency.everyNth));
  return Number.isFinite(every) && every >= 1 && answerNumber % every === 0;
}

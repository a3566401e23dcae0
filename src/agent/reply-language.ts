/**
 * The language of the bot's fixed replies (the honest media replies, the notices of a handoff the bot started): the
 * customer's own, guessed from their words, when it is one Parley has texts in; else the tenant's language.
 */
import { guessLanguage } from '../llm/routing/routing-features';
import type { SETTINGS_LANGUAGES } from '../tenants/tenant-settings';

export type ReplyLanguage = (typeof SETTINGS_LANGUAGES)[number];

/** The language to answer `customerText` in: guessed from it when it is en, es or pt, else `fallback`. */
export function replyLanguageOf(customerText: string, fallback: ReplyLanguage = 'en'): ReplyLanguage {
  const guessed = customerText.trim() ? guessLanguage(customerText) : undefined;
  return guessed === 'en' || guessed === 'es' || guessed === 'pt' ? guessed : fallback;
}

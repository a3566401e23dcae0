/**
 * Opt-out and opt-in keywords. A customer who writes STOP (or UNSUBSCRIBE, PARAR, SAIR, BAJA, or a word the tenant
 * adds) as their whole message gets no more bot or agent-initiated messages until they write START. Matching ignores
 * case, accents, surrounding spaces and end punctuation ("Stop!", " baja. ", "SAÍR").
 */
import type { SettingsLanguage } from './consent-texts';

/** The built-in opt-out words (English, Portuguese and Spanish customers' usual ones). */
export const OPT_OUT_KEYWORDS = ['STOP', 'UNSUBSCRIBE', 'PARAR', 'SAIR', 'BAJA'] as const;
/** The word that resumes messages. */
export const OPT_IN_KEYWORDS = ['START'] as const;

/** Keywords only one language uses: the confirmation is then in that language, whatever the tenant's. */
const KEYWORD_LANGUAGE: Readonly<Record<string, SettingsLanguage>> = { SAIR: 'pt', BAJA: 'es' };

export type ConsentKeyword = { kind: 'opt_out' | 'opt_in'; language: SettingsLanguage | null };

/** The message as compared: accents removed, upper case, without surrounding spaces and punctuation. */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '');
}

/** What the whole message says about consent, if anything. */
export function readConsentKeyword(body: string, tenantKeywords: readonly string[] = []): ConsentKeyword | null {
  const word = normalizeKeyword(body);
  if (word === '') return null;
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(word)) return { kind: 'opt_in', language: null };
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(word) || tenantKeywords.some((keyword) => normalizeKeyword(keyword) === word)) {
    return { kind: 'opt_out', language: KEYWORD_LANGUAGE[word] ?? null };
  }
  return null;
}

/**
 * What the bot says to a message it cannot understand yet: a voice note or a photo with no text. An honest,
 * friendly reply in the customer's language (guessed from their earlier messages, else the tenant's language),
 * and the conversation is flagged for a person, so the message is never dropped silently.
 */
import { guessLanguage } from '../llm/routing/routing-features';
import type { SETTINGS_LANGUAGES } from '../tenants/tenant-settings';

type ReplyLanguage = (typeof SETTINGS_LANGUAGES)[number];

const REPLIES: Record<ReplyLanguage, string> = {
  en: "Sorry, I can't listen to voice notes or see photos yet. Could you type your message? A colleague will also take a look.",
  es: 'Lo siento, todavía no puedo escuchar notas de voz ni ver fotos. ¿Podrías escribir tu mensaje? Un compañero también lo revisará.',
  pt: 'Desculpe, ainda não consigo ouvir mensagens de voz nem ver fotos. Você poderia digitar sua mensagem? Um colega também vai dar uma olhada.',
};

/** The flag reason agents see. */
export const UNSUPPORTED_MEDIA_FLAG = 'unsupported_media';

/** The reply to a media-only message, in the language of `earlierCustomerText` when it can be told, else `fallback`. */
export function unsupportedMediaReply(earlierCustomerText: string, fallback: ReplyLanguage = 'en'): string {
  const guessed = earlierCustomerText.trim() ? guessLanguage(earlierCustomerText) : undefined;
  const language = guessed === 'en' || guessed === 'es' || guessed === 'pt' ? guessed : fallback;
  return REPLIES[language];
}

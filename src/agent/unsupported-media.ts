/**
 * What the bot says to media it cannot understand: a voice note with no transcription provider (no key, the offline
 * answerer, every provider failing, a format no provider takes), a photo with no vision-capable model, a PDF with no
 * text to read, a file of another kind, or media that could not be downloaded. An honest, friendly reply in the
 * customer's language (guessed from their earlier messages, else the tenant's language), and the conversation is
 * flagged for a person, so the message is never dropped silently.
 */
import { type ReplyLanguage, replyLanguageOf } from './reply-language';

/** What could not be understood: decides the wording. `media` is the general case (several kinds, or unknown). */
export type UnsupportedMediaReason = 'media' | 'audio' | 'image' | 'document' | 'other';

const REPLIES: Record<UnsupportedMediaReason, Record<ReplyLanguage, string>> = {
  media: {
    en: "Sorry, I can't listen to voice notes or see photos yet. Could you type your message? A colleague will also take a look.",
    es: 'Lo siento, todavía no puedo escuchar notas de voz ni ver fotos. ¿Podrías escribir tu mensaje? Un compañero también lo revisará.',
    pt: 'Desculpe, ainda não consigo ouvir mensagens de voz nem ver fotos. Você poderia digitar sua mensagem? Um colega também vai dar uma olhada.',
  },
  audio: {
    en: "Sorry, I couldn't listen to your voice note. Could you type your message? A colleague will also take a look.",
    es: 'Lo siento, no pude escuchar tu nota de voz. ¿Podrías escribir tu mensaje? Un compañero también lo revisará.',
    pt: 'Desculpe, não consegui ouvir sua mensagem de voz. Você poderia digitar sua mensagem? Um colega também vai dar uma olhada.',
  },
  image: {
    en: "Sorry, I can't see photos right now. Could you describe it in a message? A colleague will also take a look.",
    es: 'Lo siento, ahora no puedo ver fotos. ¿Podrías describirla en un mensaje? Un compañero también la revisará.',
    pt: 'Desculpe, no momento não consigo ver fotos. Você poderia descrevê-la em uma mensagem? Um colega também vai dar uma olhada.',
  },
  document: {
    en: "Thanks, I've received your document. I couldn't read its text, so a colleague will look at it and get back to you.",
    es: 'Gracias, recibí tu documento. No pude leer su texto, así que un compañero lo revisará y te responderá.',
    pt: 'Obrigado, recebi seu documento. Não consegui ler o texto dele, então um colega vai analisá-lo e responder você.',
  },
  other: {
    en: "Sorry, I can't open this kind of file. Could you type your message? A colleague will also take a look.",
    es: 'Lo siento, no puedo abrir este tipo de archivo. ¿Podrías escribir tu mensaje? Un compañero también lo revisará.',
    pt: 'Desculpe, não consigo abrir este tipo de arquivo. Você poderia digitar sua mensagem? Um colega também vai dar uma olhada.',
  },
};

/** The flag reason agents see for media the bot could not understand. */
export const UNSUPPORTED_MEDIA_FLAG = 'unsupported_media';
/** The flag reason for a document a person should read (the bot could not read it). */
export const DOCUMENT_RECEIVED_FLAG = 'document_received';

/** The reply to media the bot cannot understand, in the language of `earlierCustomerText` when it can be told, else `fallback`. */
export function unsupportedMediaReply(
  earlierCustomerText: string,
  fallback: ReplyLanguage = 'en',
  reason: UnsupportedMediaReason = 'media',
): string {
  return REPLIES[reason][replyLanguageOf(earlierCustomerText, fallback)];
}

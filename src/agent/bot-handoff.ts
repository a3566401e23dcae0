/**
 * Handoffs the bot starts itself, not the customer: nothing in the business's information reached the relevance
 * threshold and the tenant prefers a person to a guess (low_retrieval_confidence), or every model the tenant could
 * use failed for the turn and only the offline answerer was left (provider_failure). The customer is told, in their
 * language, that a colleague will answer; the conversation goes to a person with the reason recorded, so the bot does
 * not go on guessing (or failing) at the next message.
 */
import type { HandoffReason } from '../db/entities/conversation';
import { type ReplyLanguage, replyLanguageOf } from './reply-language';

/** The reasons the bot itself hands a conversation over for. */
export type BotHandoffReason = Extract<HandoffReason, 'low_retrieval_confidence' | 'provider_failure'>;

const NOTICES: Record<BotHandoffReason, Record<ReplyLanguage, string>> = {
  low_retrieval_confidence: {
    en: "I'm sorry, I couldn't find that in our information. I've passed your question to a colleague, who will answer you here.",
    es: 'Lo siento, no encontré eso en nuestra información. Pasé tu pregunta a un compañero, que te responderá por aquí.',
    pt: 'Desculpe, não encontrei isso nas nossas informações. Passei sua pergunta para um colega, que vai responder você por aqui.',
  },
  provider_failure: {
    en: "I'm sorry, I'm having trouble answering right now. I've passed your message to a colleague, who will answer you here.",
    es: 'Lo siento, ahora mismo tengo problemas para responder. Pasé tu mensaje a un compañero, que te responderá por aquí.',
    pt: 'Desculpe, estou com dificuldades para responder agora. Passei sua mensagem para um colega, que vai responder você por aqui.',
  },
};

/** What the customer is told when the bot hands their conversation to a person for `reason`. */
export function botHandoffNotice(reason: BotHandoffReason, customerText: string, fallback: ReplyLanguage = 'en'): string {
  return NOTICES[reason][replyLanguageOf(customerText, fallback)];
}

/** The confirmations of an opt-out and an opt-in, in the languages of Parley's own texts. */
import type { SETTINGS_LANGUAGES } from '../tenants/tenant-settings';

export type SettingsLanguage = (typeof SETTINGS_LANGUAGES)[number];

const OPTED_OUT: Record<SettingsLanguage, string> = {
  en: "You won't get any more messages from us. Reply START to receive messages again.",
  es: 'No recibirás más mensajes nuestros. Responde START para volver a recibirlos.',
  pt: 'Você não receberá mais mensagens nossas. Responda START para voltar a recebê-las.',
};

const OPTED_IN: Record<SettingsLanguage, string> = {
  en: "Welcome back! You'll receive our messages again.",
  es: '¡Hola de nuevo! Volverás a recibir nuestros mensajes.',
  pt: 'Olá de novo! Você voltará a receber nossas mensagens.',
};

export function optedOutConfirmation(language: SettingsLanguage): string {
  return OPTED_OUT[language];
}

export function optedInConfirmation(language: SettingsLanguage): string {
  return OPTED_IN[language];
}

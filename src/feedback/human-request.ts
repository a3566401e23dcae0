/**
 * Recognises a customer asking for a person, in English, Spanish and Portuguese. It looks for a request
 * ("talk to a human", "quiero hablar con un agente", "falar com um atendente") or a bare keyword ("agent"), not
 * for the words anywhere: "the price per person" is not a request for a human.
 */

/** Lower case without accents, so "atención" and "atencion" match alike. */
function normalize(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

const PEOPLE = [
  // English
  'human',
  'humans',
  'agent',
  'agents',
  'person',
  'representative',
  'rep',
  'operator',
  'someone',
  'somebody',
  'staff',
  'live agent',
  // Spanish
  'humano',
  'humana',
  'agente',
  'persona',
  'representante',
  'operador',
  'operadora',
  'asesor',
  'asesora',
  'alguien',
  // Portuguese
  'atendente',
  'pessoa',
  'alguem',
  'consultor',
  'consultora',
].join('|');

/** Verbs of talking or being put through: the person may come a few words later ("talk to one of your agents"). */
const TALKING = [
  'talk',
  'speak',
  'chat',
  'connect',
  'transfer',
  'put me through', // English
  'hablar',
  'comunicar',
  'contactar',
  'pasame',
  'transferir', // Spanish
  'falar',
  'conversar',
  'transfere',
  'me passa', // Portuguese
].join('|');

/** Verbs of wanting: only directly before the person ("I want a human"), since "quero reservar para uma pessoa" is not. */
const WANTING = ['i want', 'i need', 'can i have', 'get me', 'quiero', 'necesito', 'quero', 'preciso'].join('|');

const BARE_KEYWORD = new RegExp(
  `^(?:an? |un |una |um |uma )?(?:real |live |de verdad |de verdade )?(?:${PEOPLE})(?: please| por favor)?[.!?]*$`,
);
const TALK_REQUEST = new RegExp(`\\b(?:${TALKING})\\b.{0,40}?\\b(?:${PEOPLE})\\b`);
const WANT_REQUEST = new RegExp(`\\b(?:${WANTING}) (?:to |a |an |un |una |um |uma |com |con )?(?:real |live )?(?:${PEOPLE})\\b`);
const REAL_PERSON = /\b(?:real|actual|live) (?:human|person|agent)\b|\b(?:persona|pessoa) (?:real|de verdad|de verdade)\b/;

/** True when the message asks to be put through to a human. */
export function isHumanRequest(text: string): boolean {
  const normalized = normalize(text);
  if (normalized === '' || normalized.length > 300) return false;
  return BARE_KEYWORD.test(normalized) || TALK_REQUEST.test(normalized) || WANT_REQUEST.test(normalized) || REAL_PERSON.test(normalized);
}

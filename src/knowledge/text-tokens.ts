/** Language-neutral lexical tokens for retrieval: lower case, accents folded, stop words dropped, crude plural folding. */

const STOP_WORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been am do does did have has had ' +
    'i me my we our you your he she it its they them their this that these those what which who whom how when where why ' +
    'can could would should will shall may might must not no yes please hi hello thanks thank there here so too very ' +
    'el la los las un una unos unas y o de del en con por para que es son al lo se su sus mi mis tu como cuando donde ' +
    'o os as um uma uns umas e do da dos das no na nos nas em com por para que é são ao se seu sua meu minha você'
  ).split(/\s+/),
);

/** Folds accents so "envío" matches "envio". */
export function foldAccents(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '');
}

/** Crude plural folding shared by queries and documents (refunds -> refund, policies -> policy). */
function stem(token: string): string {
  if (token.length > 4 && token.endsWith('ies')) return `${token.slice(0, -3)}y`;
  if (token.length > 3 && token.endsWith('es') && /(ss|x|ch|sh)es$/.test(token)) return token.slice(0, -2);
  if (token.length > 3 && token.endsWith('s') && !token.endsWith('ss')) return token.slice(0, -1);
  return token;
}

/** Content tokens of a text, in order, de-duplicated. */
export function contentTokens(text: string): string[] {
  const words = foldAccents(text.toLowerCase()).match(/[\p{L}\p{N}]+/gu) ?? [];
  const tokens = new Set<string>();
  for (const word of words) {
    if (word.length < 2 || STOP_WORDS.has(word)) continue;
    tokens.add(stem(word));
  }
  return [...tokens];
}

/**
 * The words of a text without its stop words, spelled as written: the keyword leg's query. A tenant searched with
 * the `simple` configuration keeps every word, and "do you" would otherwise count as half of "Do you sell unicorns?".
 */
export function withoutStopWords(text: string): string {
  const words = text.match(/[\p{L}\p{N}]+/gu) ?? [];
  return words
    .filter((word) => {
      const lower = word.toLowerCase();
      return !STOP_WORDS.has(lower) && !STOP_WORDS.has(foldAccents(lower));
    })
    .join(' ');
}

/** Score in [0,1]: how much of the message the question covers (weighted most), and the answer a little. */
export function scoreCandidate(messageTokens: string[], candidate: { question: string; answer: string }): number {
  if (messageTokens.length === 0) return 0;
  const questionTokens = new Set(contentTokens(candidate.question));
  const answerTokens = new Set(contentTokens(candidate.answer));
  let questionHits = 0;
  let answerHits = 0;
  for (const token of messageTokens) {
    if (questionTokens.has(token)) questionHits += 1;
    else if (answerTokens.has(token)) answerHits += 1;
  }
  const messageCoverage = (questionHits + 0.5 * answerHits) / messageTokens.length;
  // Also reward covering the stored question, so "refund?" still matches "What is your refund policy?".
  const questionCoverage = questionTokens.size === 0 ? 0 : questionHits / questionTokens.size;
  return Math.min(1, 0.6 * messageCoverage + 0.4 * questionCoverage);
}

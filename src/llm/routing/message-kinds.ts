/**
 * The fixed set of message kinds the router predicts in-process, for per-(kind, tier) feedback statistics and for
 * explaining a decision. Small on purpose: each kind must gather enough feedback per tenant to learn from.
 * Seven are learnt (a multinomial linear model on the routing features), and rules cover what no public labelled
 * set does: `long_document` is a rule on exact size; a code fence or a stack trace is `code`; and when the model
 * says greeting, faq or account, a word of dissatisfaction makes it a `complaint` and two programming words `code`
 * (the model learns those two kinds from a few dozen written examples only, and under-predicts them).
 */

export const MESSAGE_KINDS = ['greeting', 'faq', 'account', 'complaint', 'maths', 'analysis', 'code', 'long_document'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** The kinds the multinomial model predicts, in the order of its weights. */
export const LEARNT_KINDS = [
  'greeting',
  'faq',
  'account',
  'complaint',
  'maths',
  'analysis',
  'code',
] as const satisfies readonly MessageKind[];
export type LearntKind = (typeof LEARNT_KINDS)[number];

/** What each kind means, for documentation and the insights view. */
export const MESSAGE_KIND_DESCRIPTIONS: Readonly<Record<MessageKind, string>> = {
  greeting: 'greeting, thanks, goodbye or small talk with no request',
  faq: 'a general question or simple request: hours, prices, policies, how to, facts',
  account: "the customer's own order, account, card, booking or bill: a status, a change, a problem to fix",
  complaint: 'dissatisfaction to acknowledge: bad service, a broken promise, a demand for compensation',
  maths: 'a calculation or a maths problem',
  analysis: 'a question needing expert knowledge or reasoning: exam-style, comparison, explanation, advice',
  code: 'programming: code, errors, APIs, formulas',
  long_document: 'a pasted document or a very long message (exact token count above the model file threshold)',
};

/** A stack trace is code whatever the words around it (the learnt model has few code examples). */
const STACK_TRACE = /Traceback \(most recent call last\)|\n\s+at [\w$.<>]+ \([^)]*:\d+:\d+\)|Exception in thread "/;

/** The rule-based kind of a message, or undefined to let the learnt model decide. */
export function ruleKind(text: string, tokens: number, longDocumentTokens: number, hasCodeFence: boolean): MessageKind | undefined {
  if (tokens >= longDocumentTokens) return 'long_document';
  if (hasCodeFence || STACK_TRACE.test(text.length > 4000 ? text.slice(0, 4000) : text)) return 'code';
  return undefined;
}

/** Kinds a cue may override: an everyday message with a cue; never maths or analysis (an exam question on ethics). */
const OVERRIDABLE: ReadonlySet<MessageKind> = new Set(['greeting', 'faq', 'account']);

/** The learnt kind, overridden by the dissatisfaction and programming cues (counts of cue words, see routing-features.ts). */
export function refineKind(learnt: MessageKind, dissatisfactionWords: number, programmingWords: number): MessageKind {
  if (!OVERRIDABLE.has(learnt)) return learnt;
  if (programmingWords >= 2) return 'code';
  if (dissatisfactionWords >= 1) return 'complaint';
  return learnt;
}

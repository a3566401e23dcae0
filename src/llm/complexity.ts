/**
 * The complexity score in [0,1] the router reads, from features of the customer's request. Each feature is a
 * number in [0,1]; they combine as independent pieces of evidence, 1 - prod(1 - weight x feature), so one
 * strong signal (a maths problem in a single message) can reach the complex tier on its own.
 */
import { countTextTokens } from './token-counter';
import type { ChatMessage } from './types';

export interface ComplexityFeatures {
  /** Turns of conversation before this message, scaled. */
  conversationLength: number;
  /** Size of the customer's message in tokens, scaled. */
  messageSize: number;
  /** Reasoning cues: analysis, comparison, maths, code, multi-step instructions. */
  reasoning: number;
  /** Question shape: several questions, enumerations, conditions. */
  questionShape: number;
  /** A personal problem to sort out (order, payment, account) rather than a general fact. */
  supportIssue: number;
  /** A greeting, thanks or acknowledgement with nothing else. */
  smallTalk: number;
}

export const FEATURE_WEIGHTS: Readonly<Record<Exclude<keyof ComplexityFeatures, 'smallTalk'>, number>> = {
  conversationLength: 0.15,
  messageSize: 0.3,
  reasoning: 0.9,
  questionShape: 0.45,
  supportIssue: 0.5,
};

const REASONING_FAMILIES: ReadonlyArray<readonly [string, RegExp]> = [
  [
    'analysis',
    wordsPattern(
      [
        'analy[sz]e|analysis|compare|comparison|contrast|evaluate|trade-?offs?|pros and cons|implications?|versus|vs\\.?',
        'which (one|option|plan) (is|would)|minimi[sz]e|maximi[sz]e|optimi[sz]e|strategy|taking into account|considering',
      ],
      'i',
    ),
  ],
  [
    'maths',
    /\b(calculate|calculation|compute|solve|equation|derive|derivation|prove|proof|probability|formula|interest rate|annual interest|percent(age)?)\b|\d\s*[-+*/^=]\s*\d|\d+(\.\d+)?\s*%/i,
  ],
  ['maths-notation', /\d\s*[a-z]\^\d|\d[a-z]\s*[-+=]|\bx\s*=|\bsqrt\b|\$\d[\d,]*(\.\d+)?\b.*\b\d+(\.\d+)?\s*%/i],
  [
    'code',
    /```|\b(python|javascript|typescript|node\.?js|sql|regex|function|query|endpoint|debug|stack trace|exception|my code|this code|script|algorithm|json|csv export)\b|\/v\d\//i,
  ],
  // An instruction to do intellectual work, at the start of a sentence ("Derive the formula.").
  [
    'task',
    /(^|[.?!:]\s+)(please\s+)?(can you\s+)?(write|solve|calculate|compute|derive|prove|debug|evaluate|compare|analy[sz]e|walk me through|explain|estimate|design|plan)\b/i,
  ],
  [
    'explanation',
    /\b(step by step|explain (why|how|each|the reasoning)|reasoning|walk me through|in detail|detailed|break (it )?down|show the (calculation|steps|work))\b/i,
  ],
];

/** `\b(one|of|these)\b`: long alternations stay readable as lists. */
function wordsPattern(alternatives: readonly string[], flags: string): RegExp {
  return new RegExp(`\\b(${alternatives.join('|')})\\b`, flags);
}

const SUPPORT_CUES = wordsPattern(
  [
    'my (order|package|parcel|account|payment|card|subscription|password|delivery|refund)',
    'order #?\\d+',
    'charged',
    'refund(ed)?',
    'damaged',
    'broken',
    'not working',
    "doesn'?t work",
    'does not work',
    "hasn'?t arrived",
    'never arriv\\w*',
    'wrong',
    'missing',
    'cancel',
    'exchange',
    'replacement',
    'frustrat\\w*',
    'complain\\w*',
    'logging me out',
    'expired',
    'reset',
    'tracking',
    'waiting',
    'change (my|the) \\w+',
    'what (should|can|else can) i do',
    "someone else'?s?",
    'received',
  ],
  'gi',
);

const FIRST_PERSON = /\b(i|i'm|i've|my|me)\b/gi;
/** Shape features read the start and the end of a message: in a pasted document, that is where the question is. */
const SHAPE_WINDOW = 600;

const GREETING_OR_THANKS = [
  'hi',
  'hello',
  'hey',
  'hiya',
  'yo',
  'good (morning|afternoon|evening|night)',
  'hola',
  'buen[oa]s?( d[ií]as| tardes| noches)?',
  'ol[aá]',
  'bom dia',
  'thanks?( a lot| so much| you)?',
  'thank you( so much)?',
  'ty',
  'cheers',
  'ok(ay)?',
  'perfect',
  'great',
  'cool',
  'bye',
  'goodbye',
  'anyone there',
  'there',
].join('|');
const SMALL_TALK_TAIL = [
  'hi',
  'hello',
  'there',
  'anyone there',
  'thanks?',
  'thank you',
  'perfect',
  'ok(ay)?',
  'great',
  'buenos d[ií]as',
  'a lot',
].join('|');
/** A message made only of greetings, thanks and acknowledgements. */
const SMALL_TALK = new RegExp(`^\\s*(${GREETING_OR_THANKS})([\\s,!.?]+(${SMALL_TALK_TAIL}))*[\\s!.,?]*$`, 'i');

const clamp = (value: number) => Math.min(1, Math.max(0, value));
const distinct = (matches: RegExpMatchArray | null) => new Set((matches ?? []).map((match) => match.trim().toLowerCase())).size;

/** The features of the last customer message in its conversation. */
export function extractFeatures(messages: readonly ChatMessage[]): ComplexityFeatures {
  let last = '';
  let turns = 0;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message.role === 'system') continue;
    if (last === '' && message.role === 'user') last = message.content;
    else turns += 1;
  }
  const tokens = countTextTokens(last);
  const framing = last.length > SHAPE_WINDOW * 2 ? `${last.slice(0, SHAPE_WINDOW)}\n${last.slice(-SHAPE_WINDOW)}` : last;
  // The cues are read in the same start and end as the shape: a pasted document's middle says little about the
  // request, and scanning all of it made a long message's routing decision cost more than the 0.2 ms it may take.
  const families = REASONING_FAMILIES.filter(([, pattern]) => pattern.test(framing)).length;
  const questions = (framing.match(/\?/g) ?? []).length;
  // Distinct markers only: "Clause 3." repeated through a pasted document is not a three-part question.
  const enumerated = distinct(framing.match(/(^|\s)(\d[).]|[a-c]\)|first(ly)?,|second(ly)?,|then,?\s|finally)/gi));
  const conditions = distinct(framing.match(/\b(if|what happens|assuming|suppose|depending on|whether)\b/gi));
  const supportHits = distinct(framing.match(SUPPORT_CUES));
  const firstPerson = (framing.match(FIRST_PERSON) ?? []).length;
  return {
    conversationLength: clamp((turns - 2) / 18),
    messageSize: clamp((tokens - 12) / 60),
    reasoning: clamp(families * 0.5 + (families > 0 && tokens > 40 ? 0.2 : 0)),
    questionShape: clamp(Math.max(0, questions - 1) * 0.3 + (enumerated >= 2 ? enumerated * 0.2 : 0) + conditions * 0.15),
    supportIssue: clamp(supportHits * 0.45 + (firstPerson >= 2 ? 0.45 : 0)),
    smallTalk: SMALL_TALK.test(last) ? 1 : 0,
  };
}

/** Combines features into a score in [0,1]; small talk is capped far below the simple threshold. */
export function scoreComplexity(features: ComplexityFeatures): number {
  let remaining = 1;
  for (const [name, weight] of Object.entries(FEATURE_WEIGHTS) as Array<[keyof typeof FEATURE_WEIGHTS, number]>) {
    remaining *= 1 - weight * features[name];
  }
  const score = 1 - remaining;
  return features.smallTalk ? Math.min(score, 0.05) : Math.round(score * 1000) / 1000;
}

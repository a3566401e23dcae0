/**
 * Features of a conversation for the trained router: the last customer message as hashed word unigrams, word bigrams
 * and character 3- and 4-grams (the hashing trick: no vocabulary to ship, any language and spelling gets a feature),
 * plus a few dense numbers (the hand-made complexity signals of `complexity.ts`, exact size in tokens, digits, maths
 * symbols, code symbols, a language guess), plus the number of earlier turns. Only the last customer message is
 * featurised, and only its first HEAD_CHARS and last TAIL_CHARS (in a pasted document the question sits at either
 * end), so the cost per decision is bounded whatever the history.
 *
 * Training and scoring call the same function; a model records FEATURE_SET_VERSION and refuses to load if it differs.
 */
import { type ComplexityFeatures, extractFeatures } from '../complexity';
import { countTextTokens } from '../token-counter';
import type { ChatMessage } from '../types';

/** Bump when anything below changes what a message's features are: older weight files then refuse to load. */
export const FEATURE_SET_VERSION = 'routing-features/3';
/**
 * The window: 700 + 300 characters keeps a long message's decision near 0.1 ms (the n-gram lookups are linear in
 * it; 1,000 + 500 took 0.075 ms for the scorer alone, 700 + 300 0.05 ms). Only 7% of MMLU's prompts and none of
 * GSM8K's are longer, and their question and options sit in the last 300 characters.
 */
export const HEAD_CHARS = 700;
export const TAIL_CHARS = 300;

export const LANGUAGES = ['en', 'es', 'pt', 'fr', 'de', 'it', 'other-latin', 'non-latin', 'undetermined'] as const;
export type LanguageGuess = (typeof LANGUAGES)[number];

/** Upper bounds (exclusive) of the size buckets in tokens; the last bucket is open. */
const TOKEN_BUCKETS = [4, 8, 16, 32, 64, 128, 256, 512, 1024] as const;

export const DENSE_FEATURE_NAMES: readonly string[] = [
  'complexity.messageSize',
  'complexity.reasoning',
  'complexity.questionShape',
  'complexity.supportIssue',
  'complexity.smallTalk',
  'tokens.log2',
  ...TOKEN_BUCKETS.map((bound) => `tokens.below${bound}`),
  `tokens.atLeast${TOKEN_BUCKETS[TOKEN_BUCKETS.length - 1]}`,
  'numbers.log2',
  'mathsSymbols.log2',
  'questionMarks',
  'newlines.log2',
  'uppercaseShare',
  'nonAsciiShare',
  'codeSymbolShare',
  'codeFence',
  'cues.dissatisfaction',
  'cues.programming',
  ...LANGUAGES.map((language) => `language.${language}`),
  // The shape of a question (see shapeFeatures): what ranks judged prompts by how much a strong model gains on them.
  'shape.stemLog',
  'shape.optionsLog',
  'shape.optionShare',
  'shape.optionCount',
  'shape.numericOptions',
  'shape.negation',
  'shape.whichOfFollowing',
  'shape.statements',
  'shape.longWordShare',
  'shape.meanWordLength',
  'shape.digitShare',
  'shape.equations',
  'shape.units',
  'shape.sentencesLog',
  'shape.commasPerSentence',
  'shape.computeCue',
  'shape.optionMeanLog',
];
const FIRST_SHAPE_FEATURE = DENSE_FEATURE_NAMES.indexOf('shape.stemLog');
/** Positions of the dense features set by name below (looked up once, at load). */
const DENSE_POSITION = {
  numbers: DENSE_FEATURE_NAMES.indexOf('numbers.log2'),
  mathsSymbols: DENSE_FEATURE_NAMES.indexOf('mathsSymbols.log2'),
  questionMarks: DENSE_FEATURE_NAMES.indexOf('questionMarks'),
  newlines: DENSE_FEATURE_NAMES.indexOf('newlines.log2'),
  uppercaseShare: DENSE_FEATURE_NAMES.indexOf('uppercaseShare'),
  nonAsciiShare: DENSE_FEATURE_NAMES.indexOf('nonAsciiShare'),
  codeSymbolShare: DENSE_FEATURE_NAMES.indexOf('codeSymbolShare'),
  codeFence: DENSE_FEATURE_NAMES.indexOf('codeFence'),
  dissatisfaction: DENSE_FEATURE_NAMES.indexOf('cues.dissatisfaction'),
  programming: DENSE_FEATURE_NAMES.indexOf('cues.programming'),
  firstLanguage: DENSE_FEATURE_NAMES.indexOf(`language.${LANGUAGES[0]}`),
};

/** Namespace seeds: the same string as a word and as a character gram must not share a bucket by construction. */
const SEED_WORD = 0x9e3779b1;
const SEED_BIGRAM = 0x85ebca77;
const SEED_CHARS = 0xc2b2ae3d;

/** A conversation reduced to what the router reads. */
export interface ConversationView {
  /** The last customer message ('' when there is none). */
  text: string;
  /** Non-system messages before it. */
  turnsBefore: number;
}

/** Reusable buffers for one featurisation: scoring is synchronous, so one buffer per scorer avoids allocation per call. */
export interface FeatureBuffer {
  /** Mixed 32-bit hashes of the n-grams; a model keeps the low bits it needs. */
  hashes: Uint32Array;
  /** The value of each hash: 1/sqrt(n) for the n grams of its namespace, so long and short texts weigh alike. */
  values: Float32Array;
  length: number;
  /** Scratch for the character grams, which are produced interleaved with the words and stored after them. */
  characterGrams: Uint32Array;
  /** Scratch: votes of common words per Latin-script language. */
  languageVotes: Int32Array;
  dense: Float64Array;
  language: LanguageGuess;
  tokens: number;
}

/** A buffer big enough for any message (the window bounds the number of grams). */
export function createFeatureBuffer(): FeatureBuffer {
  // Per window character at most: one 3-gram, one 4-gram, one word and one bigram.
  const capacity = (HEAD_CHARS + TAIL_CHARS + 8) * 4;
  return {
    hashes: new Uint32Array(capacity),
    values: new Float32Array(capacity),
    length: 0,
    characterGrams: new Uint32Array(capacity),
    languageVotes: new Int32Array(LATIN_LANGUAGE_COUNT),
    dense: new Float64Array(DENSE_FEATURE_NAMES.length),
    language: 'undetermined',
    tokens: 0,
  };
}

/** The last customer message and the number of turns before it. */
export function viewConversation(messages: readonly ChatMessage[]): ConversationView {
  let lastIndex = -1;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (messages[index].role === 'user') {
      lastIndex = index;
      break;
    }
  }
  let turnsBefore = 0;
  for (let index = 0; index < lastIndex; index += 1) if (messages[index].role !== 'system') turnsBefore += 1;
  return { text: lastIndex >= 0 ? messages[lastIndex].content : '', turnsBefore };
}

/** Optional values the caller already has (the router computes both), so they are not computed twice. */
export interface PrecomputedSignals {
  complexity?: ComplexityFeatures;
  /** Exact tokens of the last customer message. */
  tokens?: number;
}

/** Fills `buffer` with the features of one customer message. */
export function extractMessageFeatures(text: string, buffer: FeatureBuffer, precomputed: PrecomputedSignals = {}): FeatureBuffer {
  const window = text.length > HEAD_CHARS + TAIL_CHARS ? `${text.slice(0, HEAD_CHARS)}\n${text.slice(-TAIL_CHARS)}` : text;
  const lower = window.toLowerCase();
  const dense = buffer.dense;
  dense.fill(0);

  const complexity = precomputed.complexity ?? extractFeatures([{ role: 'user', content: text }]);
  dense[0] = complexity.messageSize;
  dense[1] = complexity.reasoning;
  dense[2] = complexity.questionShape;
  dense[3] = complexity.supportIssue;
  dense[4] = complexity.smallTalk;
  const tokens = precomputed.tokens ?? countTextTokens(text);
  buffer.tokens = tokens;
  dense[5] = Math.log2(1 + tokens) / 12;
  let bucket = 0;
  while (bucket < TOKEN_BUCKETS.length && tokens >= TOKEN_BUCKETS[bucket]) bucket += 1;
  dense[6 + bucket] = 1;

  const hashes = buffer.hashes;
  let length = 0;
  // Words: letters, digits (all mapped to 0: the shape of a number matters, not its value) and apostrophes.
  let wordHash = 0;
  let wordLength = 0;
  let previousWord = 0;
  let hasPrevious = false;
  const wordStart = 0;
  const languageVotes = buffer.languageVotes;
  languageVotes.fill(0);
  let languageVoted = false;
  let wordsSeen = 0;
  let dissatisfaction = 0;
  let programming = 0;
  // Character grams over the lower-cased window with digits as 0 and whitespace runs as one space.
  let char1 = 32;
  let char2 = 32;
  let char3 = 32;
  const characterGrams = buffer.characterGrams;
  let characterCount = 0;
  let numbers = 0;
  let inNumber = false;
  let mathsSymbols = 0;
  let questionMarks = 0;
  let newlines = 0;
  let uppercase = 0;
  let letters = 0;
  let nonAscii = 0;
  let codeSymbols = 0;
  for (let index = 0; index <= lower.length; index += 1) {
    let code = index < lower.length ? lower.charCodeAt(index) : 32;
    const original = index < window.length ? window.charCodeAt(index) : 32;
    const isDigit = code >= 48 && code <= 57;
    if (isDigit) {
      if (!inNumber) numbers += 1;
      code = 48;
    }
    inNumber =
      isDigit || (inNumber && (code === 46 || code === 44) && index + 1 < lower.length && isDigitCode(lower.charCodeAt(index + 1)));
    const isWord = isDigit || (code >= 97 && code <= 122) || code === 39 || code === 0x2019 || (code >= 0xc0 && !isPunctuation(code));
    if (isWord) {
      wordHash = wordLength === 0 ? Math.imul(SEED_WORD ^ code, 0x01000193) : Math.imul(wordHash ^ code, 0x01000193);
      wordLength += 1;
      if (!isDigit) {
        letters += 1;
        if (original >= 65 && original <= 90) uppercase += 1;
      }
      if (code >= 0x80) nonAscii += 1;
    } else if (wordLength > 0) {
      const word = mix(wordHash);
      hashes[length++] = word;
      if (hasPrevious) hashes[length++] = mix(Math.imul(previousWord ^ SEED_BIGRAM, 0x01000193) ^ word);
      const cues = WORD_CUE_TABLE.get(word);
      if (cues !== undefined) {
        if (cues & DISSATISFACTION_CUE) dissatisfaction += 1;
        if (cues & PROGRAMMING_CUE) programming += 1;
        if (wordsSeen < LANGUAGE_WORDS && cues & LANGUAGE_BITS) {
          languageVoted = true;
          for (let language = 0; language < LATIN_LANGUAGE_COUNT; language += 1) if (cues & (1 << language)) languageVotes[language] += 1;
        }
      }
      wordsSeen += 1;
      previousWord = word;
      hasPrevious = true;
      wordLength = 0;
    }
    if (!isWord) {
      if (code === 63 || code === 0xbf) questionMarks += 1;
      if (code === 10) newlines += 1;
      const symbolClass =
        code < 128 ? ASCII_SYMBOL_CLASS[code] : code === 0xd7 || code === 0xf7 || code === 0x221a || code === 0x3c0 ? MATHS : 0;
      if (symbolClass & MATHS) mathsSymbols += 1;
      if (symbolClass & CODE) codeSymbols += 1;
      if (code === 10 && hasPrevious) hasPrevious = false;
    }
    const isSpace = code === 32 || code === 10 || code === 9 || code === 13;
    if (isSpace) {
      if (char3 === 32) continue;
      code = 32;
    }
    if (index === lower.length) break;
    const gram3 = Math.imul(Math.imul(Math.imul(SEED_CHARS ^ char2, 0x01000193) ^ char3, 0x01000193) ^ code, 0x01000193);
    characterGrams[characterCount++] = mix(gram3);
    characterGrams[characterCount++] = mix(Math.imul(gram3 ^ char1, 0x01000193));
    char1 = char2;
    char2 = char3;
    char3 = code;
  }
  const wordEnd = length;
  hashes.set(characterGrams.subarray(0, characterCount), length);
  length += characterCount;
  buffer.length = length;
  const values = buffer.values;
  const wordValue = wordEnd > wordStart ? 1 / Math.sqrt(wordEnd - wordStart) : 0;
  values.fill(wordValue, wordStart, wordEnd);
  values.fill(characterCount ? 1 / Math.sqrt(characterCount) : 0, wordEnd, length);

  const characters = Math.max(1, window.length);
  dense[DENSE_POSITION.numbers] = Math.log2(1 + numbers) / 5;
  dense[DENSE_POSITION.mathsSymbols] = Math.log2(1 + mathsSymbols) / 5;
  dense[DENSE_POSITION.questionMarks] = Math.min(questionMarks, 4) / 4;
  dense[DENSE_POSITION.newlines] = Math.log2(1 + newlines) / 6;
  dense[DENSE_POSITION.uppercaseShare] = letters ? uppercase / letters : 0;
  dense[DENSE_POSITION.nonAsciiShare] = nonAscii / characters;
  dense[DENSE_POSITION.codeSymbolShare] = Math.min(1, (codeSymbols / characters) * 10);
  dense[DENSE_POSITION.codeFence] = window.includes('```') ? 1 : 0;
  dense[DENSE_POSITION.dissatisfaction] = Math.min(dissatisfaction, 3) / 3;
  dense[DENSE_POSITION.programming] = Math.min(programming, 3) / 3;
  buffer.language = guessLanguageFrom(window, languageVoted ? languageVotes : undefined);
  dense[DENSE_POSITION.firstLanguage + LANGUAGES.indexOf(buffer.language)] = 1;
  shapeFeatures(window, dense, FIRST_SHAPE_FEATURE);
  return buffer;
}

/** An answer option line of a multiple-choice question: "A. text", "(b) text", "C) text". */
const OPTION_LINE = /^\s*\(?[A-Ha-h][.)]\s+(.*)$/;
const NUMERIC_OPTION = /^[-$\d.,%/\s()a-z^*+]*\d[-$\d.,%/\s()a-z^*+]*$/i;
const NEGATION = /\b(NOT|EXCEPT|LEAST|FALSE|INCORRECT)\b/;
const WHICH_OF_THE_FOLLOWING = /which of the following/i;
const STATEMENTS = /statement\s*(1|I)\b|\bI+\.\s|\b(I and II|II and III)\b/i;
const EQUATION = /[=<>≤≥]|\d\s*[-+*/^×÷]\s*\d|\b[a-z]\s*\^|\bsqrt\b|\blog\b|\\frac/g;
const UNIT =
  /\d\s?(%|\$|kg|g|m|cm|mm|km|s|ms|hours?|minutes?|seconds?|mph|dollars?|cents?|miles?|feet|ft|inches|lbs?|pounds?|liters?|ml|°|mol|J|N|V|W|Hz)\b/gi;
const COMPUTE_CUE = /\b(calculate|compute|how (many|much|long|far)|find the|solve|what is the (value|probability|sum|product))\b/i;
const LATIN_WORD = /[A-Za-z\u00c0-\u024f']+/g;
const DIGIT = /\d/g;
const SENTENCE_END = /[.?!](\s|$)/g;
const COMMA = /,/g;

const countOf = (text: string, pattern: RegExp) => {
  pattern.lastIndex = 0;
  let count = 0;
  while (pattern.exec(text) !== null) count += 1;
  return count;
};

/**
 * The shape of a question, written into `dense` from `offset`: stem and answer-option lengths, the number of options
 * and whether they are numbers, negations in capitals ("NOT", "EXCEPT"), "which of the following", numbered
 * statements, long-word share and mean word length, digit share, equations, units, sentences and commas, calculation
 * cues. Features meant to transfer between subjects (how technical, how computational, how convoluted a question is)
 * rather than to say which subject it is, which hashed n-grams already do.
 */
export function shapeFeatures(window: string, dense: Float64Array, offset: number): void {
  let stem = 0;
  let options = 0;
  let optionCount = 0;
  let numericOptions = 0;
  let lineStart = 0;
  while (lineStart <= window.length) {
    let lineEnd = window.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = window.length;
    const line = window.slice(lineStart, lineEnd);
    const match = line.length > 2 ? OPTION_LINE.exec(line) : null;
    if (match) {
      const option = match[1];
      optionCount += 1;
      options += option.length;
      if (option.length < 25 && NUMERIC_OPTION.test(option) && /\d/.test(option)) numericOptions += 1;
    } else if (optionCount === 0) stem += line.length + 1;
    lineStart = lineEnd + 1;
  }
  LATIN_WORD.lastIndex = 0;
  let words = 0;
  let letters = 0;
  let longWords = 0;
  for (let match = LATIN_WORD.exec(window); match !== null; match = LATIN_WORD.exec(window)) {
    words += 1;
    letters += match[0].length;
    if (match[0].length >= 9) longWords += 1;
  }
  const sentences = Math.max(1, countOf(window, SENTENCE_END));
  dense[offset] = Math.log2(1 + stem) / 12;
  dense[offset + 1] = Math.log2(1 + options) / 12;
  dense[offset + 2] = options / Math.max(1, stem + options);
  dense[offset + 3] = Math.min(optionCount, 5) / 5;
  dense[offset + 4] = optionCount ? numericOptions / optionCount : 0;
  dense[offset + 5] = NEGATION.test(window) ? 1 : 0;
  dense[offset + 6] = WHICH_OF_THE_FOLLOWING.test(window) ? 1 : 0;
  dense[offset + 7] = STATEMENTS.test(window) ? 1 : 0;
  dense[offset + 8] = words ? longWords / words : 0;
  dense[offset + 9] = words ? Math.min(1, letters / words / 10) : 0;
  dense[offset + 10] = Math.min(1, (countOf(window, DIGIT) / Math.max(1, window.length)) * 10);
  dense[offset + 11] = Math.min(1, countOf(window, EQUATION) / 5);
  dense[offset + 12] = Math.min(1, countOf(window, UNIT) / 4);
  dense[offset + 13] = Math.log2(1 + sentences) / 5;
  dense[offset + 14] = Math.min(1, countOf(window, COMMA) / sentences / 4);
  dense[offset + 15] = COMPUTE_CUE.test(window) ? 1 : 0;
  dense[offset + 16] = optionCount ? Math.log2(1 + options / optionCount) / 8 : 0;
}

/** A language guess for a text: its script, and for Latin script a vote of common words. */
export function guessLanguage(text: string): LanguageGuess {
  const buffer = createFeatureBuffer();
  return extractMessageFeatures(text.slice(0, 400), buffer, { complexity: NO_COMPLEXITY, tokens: 0 }).language;
}

const NO_COMPLEXITY: ComplexityFeatures = {
  conversationLength: 0,
  messageSize: 0,
  reasoning: 0,
  questionShape: 0,
  supportIssue: 0,
  smallTalk: 0,
};

function guessLanguageFrom(window: string, votes: Int32Array | undefined): LanguageGuess {
  let latin = 0;
  let other = 0;
  const limit = Math.min(window.length, 200);
  for (let index = 0; index < limit; index += 1) {
    const code = window.charCodeAt(index);
    if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 0xc0 && code <= 0x24f)) latin += 1;
    // Greek, Cyrillic, Hebrew, Arabic, Indic, Thai, CJK, Hangul: scripts the word lists below do not cover.
    else if ((code >= 0x370 && code <= 0x1fff) || (code >= 0x3040 && code <= 0xd7af)) other += 1;
  }
  if (other > latin) return 'non-latin';
  if (!votes) return 'undetermined';
  let best = -1;
  let bestVotes = 0;
  let tie = false;
  for (let language = 0; language < LATIN_LANGUAGE_COUNT; language += 1) {
    if (votes[language] > bestVotes) {
      best = language;
      bestVotes = votes[language];
      tie = false;
    } else if (votes[language] === bestVotes && bestVotes > 0) tie = true;
  }
  if (best < 0) return 'undetermined';
  // A tie between, say, Spanish and Portuguese ("de", "que") is no evidence of English either.
  return tie ? 'other-latin' : LANGUAGES[best];
}

const isDigitCode = (code: number) => code >= 48 && code <= 57;

/** Unicode punctuation and symbols above Latin-1 that must split words (general punctuation, CJK and full-width marks). */
function isPunctuation(code: number): boolean {
  return (
    code === 0xd7 ||
    code === 0xf7 ||
    (code >= 0x2000 && code <= 0x206f) ||
    (code >= 0x3000 && code <= 0x303f) ||
    (code >= 0xff00 && code <= 0xff0f) ||
    (code >= 0xd800 && code <= 0xdfff)
  );
}

/** Murmur3's finaliser: FNV-1a's low bits are weak, and the models keep only the low bits. */
function mix(hash: number): number {
  let mixed = hash ^ (hash >>> 16);
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  return (mixed ^ (mixed >>> 16)) >>> 0;
}

const MATHS = 1;
const CODE = 2;
/** Symbol classes of ASCII characters, a table rather than sets: this runs once per character. */
const ASCII_SYMBOL_CLASS = (() => {
  const table = new Uint8Array(128);
  for (const character of '+*/=^%<>') table[character.charCodeAt(0)] |= MATHS;
  for (const character of '{}[]();_`#$&|\\<>=') table[character.charCodeAt(0)] |= CODE;
  return table;
})();

/** Only the first words vote on the language: enough for a guess, and the cost stays flat for long messages. */
const LANGUAGE_WORDS = 60;
const LATIN_LANGUAGE_COUNT = 6;
/** Frequent function words and greetings per language (index into LANGUAGES); a word may vote for several. */
const LANGUAGE_WORDS_LIST: Readonly<Record<(typeof LANGUAGES)[number], string>> = {
  en:
    "the a an and is are be been you your my me to of in on at it what how i for can do does don't have " +
    'has this that there not with was will want need get from if please thanks thank hello hi hey order ' +
    'when why where would could',
  es:
    'el la los las de que y en un una por para es mi no con hola gracias pedido cómo qué está buenas ' +
    'buenos tengo quiero puedo dónde cuándo muy pero',
  pt:
    'o a os as de que e em um uma não meu minha com para olá obrigado obrigada você pedido está bom dia ' +
    'tudo quero posso onde quando muito mas',
  fr: 'le la les de des et est je vous un une pas mon ma pour avec bonjour merci commande que qui il elle mes votre où quand très mais',
  de: 'der die das und ist ich nicht sie mit ein eine mein meine für auf hallo danke bestellung wie noch ihr wo wann sehr aber',
  it: 'il lo la di che e è un una non mio mia per con ciao grazie sono ordine come dove quando molto ma',
  'other-latin': '',
  'non-latin': '',
  undetermined: '',
};

/**
 * Words of dissatisfaction and of programming, in the same six languages: hand-made cues for the kinds the public
 * data lacks (complaints, code), which a few dozen written examples cannot teach through n-grams alone.
 */
const DISSATISFACTION_WORDS =
  'disappointed disappointing unacceptable terrible awful horrible worst ridiculous rude angry annoyed ' +
  'furious fed complaint complain complaining scam cheated useless outrageous unhappy dissatisfied ' +
  'disgusting pathetic incompetent shameful nightmare frustrated frustrating appalling compensation ' +
  'unprofessional ' +
  'inaceptable molesto molesta pésimo pésima queja reclamación vergüenza estafa harto harta decepcionado decepcionada indignante ' +
  'péssimo péssima inaceitável absurdo reclamação vergonha insatisfeito insatisfeita horrível ' +
  'inadmissible inacceptable déçu déçue honteux scandaleux arnaque plainte furieux mécontent mécontente ' +
  'enttäuscht unverschämt inakzeptabel frechheit beschwerde katastrophe ärgerlich wütend ' +
  'deluso delusa inaccettabile vergogna pessimo pessima reclamo truffa arrabbiato';
const PROGRAMMING_WORDS =
  'code coding function error exception bug debug api sdk endpoint webhook json xml csv sql query ' +
  'python javascript typescript java php nodejs node react django regex script compile compiler ' +
  'traceback npm pip git github curl http https html css variable loop array null undefined typeerror ' +
  'syntax database deploy docker bash excel vlookup graphql oauth parse library framework';

const LANGUAGE_BITS = (1 << LATIN_LANGUAGE_COUNT) - 1;
const DISSATISFACTION_CUE = 1 << 6;
const PROGRAMMING_CUE = 1 << 7;

/** The hash a word gets in the loop above (FNV-1a over its lower-case UTF-16 units, then mixed). */
function wordHashOf(word: string): number {
  let hash = 0;
  for (let index = 0; index < word.length; index += 1)
    hash = index === 0 ? Math.imul(SEED_WORD ^ word.charCodeAt(0), 0x01000193) : Math.imul(hash ^ word.charCodeAt(index), 0x01000193);
  return mix(hash);
}

/** Word hash -> bit set: the languages it votes for (bits 0-5) and the cues it carries (bits 6-7). */
const WORD_CUE_TABLE: ReadonlyMap<number, number> = (() => {
  const table = new Map<number, number>();
  const add = (words: string, bit: number) => {
    for (const word of words.split(' ')) {
      const hash = wordHashOf(word);
      table.set(hash, (table.get(hash) ?? 0) | bit);
    }
  };
  LANGUAGES.slice(0, LATIN_LANGUAGE_COUNT).forEach((language, languageIndex) => {
    add(LANGUAGE_WORDS_LIST[language], 1 << languageIndex);
  });
  add(DISSATISFACTION_WORDS, DISSATISFACTION_CUE);
  add(PROGRAMMING_WORDS, PROGRAMMING_CUE);
  return table;
})();

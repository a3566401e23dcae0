/**
 * The built-in offline answerer: no network, no cost. It answers from the knowledge snippets (and approved
 * corrections) it is given, greets back, and otherwise says politely that it does not know and offers a person.
 * It is the embedded default and the last resort of every fallback chain, so it never throws.
 */
import { contentTokens } from '../../../knowledge/text-tokens';
import { emptyUsage, type GenerateRequest, type GenerateResult, type LanguageModelProvider } from '../../types';

export const OFFLINE_PROVIDER_ID = 'offline';
export const OFFLINE_MODEL_ID = 'offline-v1';

/** Below this retrieval score a snippet is not trusted as the answer. */
const ANSWER_THRESHOLD = 0.35;

const GREETING =
  /^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening)|hola|buenos d[ií]as|buenas( tardes| noches)?|ol[aá]|oi|bom dia|boa (tarde|noite))\b[\s!.,]*$/i;
const THANKS = /^\s*(thanks?( you)?|thx|ty|gracias|muchas gracias|obrigad[oa])\b[\s!.,]*$/i;

export const OFFLINE_NO_ANSWER =
  "I'm sorry, I don't have an answer to that yet. If you'd like, I can connect you with a person: just reply \"human\".";

/** A greeting or a thank-you: small talk the bot answers without knowledge. */
export function isSmallTalk(message: string): boolean {
  return GREETING.test(message) || THANKS.test(message);
}

/** Answers from retrieved snippets; deterministic. */
export class OfflineProvider implements LanguageModelProvider {
  readonly id = OFFLINE_PROVIDER_ID;

  constructor(private readonly noAnswerText = OFFLINE_NO_ANSWER) {}

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const lastUserMessage = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const best = [...(request.knowledge ?? [])].sort((left, right) => right.score - left.score)[0];
    let text: string;
    let matched: string | undefined;
    if (best && best.score >= ANSWER_THRESHOLD) {
      text = best.answer;
      matched = best.id;
    } else if (GREETING.test(lastUserMessage)) {
      text = 'Hello! How can I help you today?';
    } else if (THANKS.test(lastUserMessage)) {
      text = "You're welcome! Is there anything else I can help with?";
    } else {
      text = this.noAnswerText;
    }
    return {
      text,
      finishReason: 'stop',
      usage: emptyUsage(),
      metadata: { matchedSnippetId: matched, matchedScore: best?.score, queryTokens: contentTokens(lastUserMessage).length },
    };
  }
}

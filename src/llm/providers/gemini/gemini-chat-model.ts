/** Gemini behind the provider contract; the only file that touches @google/generative-ai's request API. */
import {
  type Content,
  type EmbedContentRequest,
  type GenerateContentResponse,
  GoogleGenerativeAI,
  type Part,
  TaskType,
} from '@google/generative-ai';
import { countTextTokens } from '../../token-counter';
import type {
  ChatMessage,
  EmbedRequest,
  EmbedResult,
  GenerateRequest,
  GenerateResult,
  LanguageModelProvider,
  TokenUsage,
  TranscriptionRequest,
  TranscriptionResult,
} from '../../types';
import { UpstreamError } from '../../types';
import { findOutboundError, type OutboundRequestError } from '../../../net/outbound-error';
import { withScopedFetch } from '../../../net/scoped-global-fetch';
import { toGeminiUpstreamError } from './gemini-error';

export interface GeminiChatProviderOptions {
  id?: string;
  apiKey: string;
  /** GEMINI_BASE_URL or the tenant's setting; the SDK appends /v1beta/models/{model}:generateContent. */
  baseUrl?: string;
  /**
   * The fetch every request goes through (SafeHttpClient's, for a tenant-configured base URL). The SDK takes no
   * fetch of its own and calls the global one, so the call runs inside withScopedFetch.
   */
  fetch?: typeof globalThis.fetch;
}

const BLOCKING_FINISH_REASONS = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'LANGUAGE']);

/** A Gemini chat model provider. */
export class GeminiChatProvider implements LanguageModelProvider {
  readonly id: string;
  private readonly client: GoogleGenerativeAI;
  private readonly baseUrl: string | undefined;
  private readonly fetch: typeof globalThis.fetch | undefined;

  constructor(options: GeminiChatProviderOptions) {
    this.id = options.id ?? 'gemini';
    this.client = new GoogleGenerativeAI(options.apiKey);
    this.baseUrl = options.baseUrl?.replace(/\/+$/, '');
    this.fetch = options.fetch;
  }

  /**
   * Embeddings through batchEmbedContents, with a reduced outputDimensionality (a field the REST API takes and the
   * SDK's 0.24 typings do not list yet). Gemini reports no token usage for embeddings: they are counted locally.
   */
  async embed(request: EmbedRequest): Promise<EmbedResult> {
    const model = this.client.getGenerativeModel({ model: request.model }, { baseUrl: this.baseUrl });
    const taskType = request.purpose === 'query' ? TaskType.RETRIEVAL_QUERY : TaskType.RETRIEVAL_DOCUMENT;
    const requests = request.texts.map(
      (text) =>
        ({
          content: { role: 'user', parts: [{ text }] },
          taskType,
          outputDimensionality: request.dimensions,
        }) as EmbedContentRequest,
    );
    const seen: GuardSeen = {};
    try {
      const response = await this.runGuarded(() => model.batchEmbedContents({ requests }, { signal: request.signal }), seen);
      const vectors = (response.embeddings ?? []).map((embedding) => embedding.values);
      if (vectors.length !== request.texts.length) {
        throw new UpstreamError({
          provider: this.id,
          model: request.model,
          kind: 'server',
          message: `${this.id}/${request.model}: ${vectors.length} embeddings for ${request.texts.length} texts`,
        });
      }
      return { vectors, inputTokens: request.texts.reduce((total, text) => total + countTextTokens(text), 0) };
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      throw toGeminiUpstreamError(error, this.id, request.model, request.signal?.aborted ?? false, seen.refusal);
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const { systemInstruction, contents } = toGeminiContents(request.messages);
    const response = await this.call(
      request.model,
      contents,
      { systemInstruction, temperature: request.temperature, maxOutputTokens: request.maxOutputTokens },
      request.signal,
    );
    const usage = readGeminiUsage(response);
    const candidate = response.candidates?.[0];
    const blockReason = response.promptFeedback?.blockReason;
    if (blockReason || (candidate?.finishReason && BLOCKING_FINISH_REASONS.has(candidate.finishReason))) {
      throw new UpstreamError({
        provider: this.id,
        model: request.model,
        kind: 'content_filter',
        message: `${this.id}/${request.model}: blocked (${blockReason ?? candidate?.finishReason})`,
        metadata: {
          blockReason,
          finishReason: candidate?.finishReason,
          safetyRatings: candidate?.safetyRatings ?? response.promptFeedback?.safetyRatings,
          usage,
        },
      });
    }
    const text = candidate?.content?.parts?.map((part) => part.text ?? '').join('') ?? '';
    if (!candidate || text === '') {
      throw new UpstreamError({
        provider: this.id,
        model: request.model,
        kind: 'server',
        message: `${this.id}/${request.model}: response without candidates`,
      });
    }
    return {
      text,
      finishReason:
        candidate.finishReason === 'MAX_TOKENS'
          ? 'length'
          : candidate.finishReason === 'STOP' || !candidate.finishReason
            ? 'stop'
            : 'other',
      usage,
      metadata: { safetyRatings: candidate.safetyRatings, modelVersion: (response as { modelVersion?: string }).modelVersion },
    };
  }

  /** Speech to text: the clip as inline data with an instruction to transcribe it verbatim; billed by tokens. */
  async transcribe(request: TranscriptionRequest): Promise<TranscriptionResult> {
    const contents: Content[] = [
      {
        role: 'user',
        parts: [{ inlineData: { mimeType: request.mediaType, data: request.audio.toString('base64') } }, { text: TRANSCRIBE_INSTRUCTION }],
      },
    ];
    const response = await this.call(request.model, contents, { temperature: 0 }, request.signal);
    const usage = readGeminiUsage(response);
    const candidate = response.candidates?.[0];
    const text = candidate?.content?.parts?.map((part) => part.text ?? '').join('') ?? '';
    if (!candidate || text.trim() === '') {
      throw new UpstreamError({
        provider: this.id,
        model: request.model,
        kind: response.promptFeedback?.blockReason ? 'content_filter' : 'server',
        message: `${this.id}/${request.model}: transcription without text`,
        metadata: { usage },
      });
    }
    return { text: text.trim(), usage };
  }

  /** One generateContent call through the tenant's guarded fetch when there is one; errors become UpstreamError. */
  private async call(
    modelId: string,
    contents: Content[],
    options: { systemInstruction?: string; temperature?: number; maxOutputTokens?: number },
    signal: AbortSignal | undefined,
  ): Promise<GenerateContentResponse> {
    const model = this.client.getGenerativeModel(
      {
        model: modelId,
        ...(options.systemInstruction ? { systemInstruction: options.systemInstruction } : {}),
        generationConfig: { temperature: options.temperature, maxOutputTokens: options.maxOutputTokens },
      },
      { baseUrl: this.baseUrl },
    );
    const seen: GuardSeen = {};
    try {
      const result = await this.runGuarded(() => model.generateContent({ contents }, { signal }), seen);
      return result.response;
    } catch (error) {
      throw toGeminiUpstreamError(error, this.id, modelId, signal?.aborted ?? false, seen.refusal);
    }
  }

  /**
   * Runs an SDK call through the tenant's guarded fetch when there is one. The SDK rethrows a failed fetch as a
   * GoogleGenerativeAIError without its cause, so the guard's refusal is kept in `seen` for the error mapping.
   */
  private runGuarded<T>(call: () => Promise<T>, seen: GuardSeen): Promise<T> {
    const guarded = this.fetch;
    if (!guarded) return call();
    return withScopedFetch(
      (input, init) =>
        guarded(input, init).catch((error: unknown) => {
          seen.refusal = findOutboundError(error);
          throw error;
        }),
      call,
    );
  }
}

/** What the guarded fetch saw during one call: its refusal of the destination, if any. */
interface GuardSeen {
  refusal?: OutboundRequestError;
}

/** Asked with every voice note: the words only, in the language spoken, so the transcript reads as the customer's message. */
const TRANSCRIBE_INSTRUCTION =
  'Transcribe this voice message verbatim in the language it is spoken. Reply with the transcript only, no comments. ' +
  'If there is no speech, reply with nothing.';

/** System messages become the systemInstruction; assistant turns become role `model`; same-role neighbours merge. */
export function toGeminiContents(messages: ChatMessage[]): { systemInstruction?: string; contents: Content[] } {
  const system = messages.filter((message) => message.role === 'system').map((message) => message.content);
  const contents: Content[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const role = message.role === 'assistant' ? 'model' : 'user';
    const previous = contents[contents.length - 1];
    // A customer's photo goes as inline data next to its caption.
    const parts: Part[] = [
      ...(message.content || !message.images?.length ? [{ text: message.content }] : []),
      ...(message.images ?? []).map((image) => ({ inlineData: { mimeType: image.mediaType, data: image.data.toString('base64') } })),
    ];
    // Gemini rejects two consecutive turns with the same role.
    if (previous && previous.role === role) previous.parts.push(...parts);
    else contents.push({ role, parts });
  }
  // A conversation must start with a user turn.
  if (contents[0]?.role === 'model') contents.unshift({ role: 'user', parts: [{ text: '(conversation continues)' }] });
  return { systemInstruction: system.length ? system.join('\n\n') : undefined, contents };
}

/** Token usage from usageMetadata; Gemini counts thinking tokens apart from candidate tokens. */
export function readGeminiUsage(response: GenerateContentResponse): TokenUsage {
  const metadata = response.usageMetadata as
    | (GenerateContentResponse['usageMetadata'] & { thoughtsTokenCount?: number; cachedContentTokenCount?: number })
    | undefined;
  const inputTokens = metadata?.promptTokenCount ?? 0;
  const reasoningTokens = metadata?.thoughtsTokenCount ?? 0;
  const outputTokens = (metadata?.candidatesTokenCount ?? 0) + reasoningTokens;
  return {
    inputTokens,
    cachedInputTokens: metadata?.cachedContentTokenCount ?? 0,
    outputTokens,
    reasoningTokens,
    totalTokens: metadata?.totalTokenCount ?? inputTokens + outputTokens,
  };
}

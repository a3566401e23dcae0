/**
 * OpenAI chat completions behind the provider contract. The same adapter serves any OpenAI-compatible endpoint
 * (Ollama, vLLM, Azure-style gateways): a different provider id, base URL and key.
 */
import OpenAI, { toFile } from 'openai';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type {
  ChatMessage,
  EmbedRequest,
  EmbedResult,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  LanguageModelProvider,
  TokenUsage,
  TranscriptionRequest,
  TranscriptionResult,
} from '../../types';
import { emptyUsage, UpstreamError } from '../../types';
import { toOpenAIUpstreamError } from './openai-error';

export interface OpenAIChatProviderOptions {
  /** 'openai', or the id of a configured OpenAI-compatible provider. */
  id?: string;
  apiKey: string;
  baseUrl?: string;
  /** Extra headers (e.g. an Azure-style `api-key`) and query parameters (e.g. `api-version`). */
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** Models that reject temperature and take max_completion_tokens (o-series); defaults to a name pattern. */
  isReasoningModel?: (model: string) => boolean;
  /** The fetch every request goes through: SafeHttpClient's for a tenant-configured base URL; the global one otherwise. */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
}

const REASONING_MODEL = /^(o\d|gpt-5)/;

/** An OpenAI (or compatible) chat model provider. */
export class OpenAIChatProvider implements LanguageModelProvider {
  readonly id: string;
  private readonly client: OpenAI;
  private readonly isReasoningModel: (model: string) => boolean;

  constructor(options: OpenAIChatProviderOptions) {
    this.id = options.id ?? 'openai';
    this.isReasoningModel = options.isReasoningModel ?? ((model) => REASONING_MODEL.test(model));
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      // The failover engine retries with its own backoff and breaker; SDK retries would hide failures from it.
      maxRetries: 0,
      defaultHeaders: options.headers,
      defaultQuery: options.query,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  embed(request: EmbedRequest): Promise<EmbedResult> {
    return embedWithOpenAI(this.client, this.id, request);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const reasoning = this.isReasoningModel(request.model);
    let completion: ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages.map(toOpenAIMessage),
          ...(reasoning || request.temperature === undefined ? {} : { temperature: request.temperature }),
          ...(request.maxOutputTokens === undefined
            ? {}
            : reasoning
              ? { max_completion_tokens: request.maxOutputTokens }
              : { max_tokens: request.maxOutputTokens }),
        },
        { signal: request.signal },
      );
    } catch (error) {
      throw toOpenAIUpstreamError(error, this.id, request.model, request.signal?.aborted ?? false);
    }
    const choice = completion?.choices?.[0];
    if (!choice?.message) {
      throw new UpstreamError({
        provider: this.id,
        model: request.model,
        kind: 'server',
        message: `${this.id}/${request.model}: response without choices`,
      });
    }
    const finishReason = mapFinishReason(choice.finish_reason);
    if (finishReason === 'content_filter' && !choice.message.content) {
      throw new UpstreamError({
        provider: this.id,
        model: request.model,
        kind: 'content_filter',
        message: `${this.id}/${request.model}: answer withheld by the content filter`,
        metadata: { usage: readUsage(completion) },
      });
    }
    return {
      text: choice.message.content ?? '',
      finishReason,
      usage: readUsage(completion),
      metadata: { responseId: completion.id, systemFingerprint: completion.system_fingerprint ?? undefined },
    };
  }

  /** Speech to text through /v1/audio/transcriptions (multipart): gpt-4o-mini-transcribe, gpt-4o-transcribe, whisper-1. */
  async transcribe(request: TranscriptionRequest): Promise<TranscriptionResult> {
    let transcription: OpenAI.Audio.Transcription;
    try {
      const file = await toFile(request.audio, `voice-note.${fileExtension(request.mediaType)}`, { type: request.mediaType });
      transcription = await this.client.audio.transcriptions.create(
        { file, model: request.model, response_format: 'json' },
        { signal: request.signal },
      );
    } catch (error) {
      throw toOpenAIUpstreamError(error, this.id, request.model, request.signal?.aborted ?? false);
    }
    if (typeof transcription?.text !== 'string') {
      throw new UpstreamError({
        provider: this.id,
        model: request.model,
        kind: 'server',
        message: `${this.id}/${request.model}: transcription without text`,
      });
    }
    const usage = transcription.usage;
    if (usage?.type === 'tokens') {
      return {
        text: transcription.text,
        usage: {
          inputTokens: usage.input_tokens,
          cachedInputTokens: 0,
          outputTokens: usage.output_tokens,
          reasoningTokens: 0,
          totalTokens: usage.total_tokens,
        },
      };
    }
    return { text: transcription.text, usage: emptyUsage(), audioSeconds: usage?.type === 'duration' ? usage.seconds : undefined };
  }
}

/** A chat message in OpenAI's shape; a user turn with images becomes text and image_url parts (base64 data URLs). */
function toOpenAIMessage(message: ChatMessage): ChatCompletionMessageParam {
  if (message.role !== 'user' || !message.images?.length)
    return { role: message.role, content: message.content } as ChatCompletionMessageParam;
  return {
    role: 'user',
    content: [
      ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
      ...message.images.map((image) => ({
        type: 'image_url' as const,
        image_url: { url: `data:${image.mediaType};base64,${image.data.toString('base64')}` },
      })),
    ],
  };
}

/** The file name's extension OpenAI infers the audio format from (it reads the name, not the part's type). */
function fileExtension(mediaType: string): string {
  const subtype = mediaType.split(';')[0].trim().toLowerCase();
  if (subtype === 'audio/mpeg') return 'mp3';
  if (subtype === 'audio/mp4') return 'm4a';
  if (subtype === 'audio/amr') return 'amr';
  return 'ogg';
}

/** OpenAI embeddings (/v1/embeddings) with reduced `dimensions`; one request per batch of texts. */
async function embedWithOpenAI(client: OpenAI, id: string, request: EmbedRequest): Promise<EmbedResult> {
  try {
    const response = await client.embeddings.create(
      { model: request.model, input: request.texts, dimensions: request.dimensions, encoding_format: 'float' },
      { signal: request.signal },
    );
    const vectors = [...response.data].sort((left, right) => left.index - right.index).map((item) => item.embedding);
    if (vectors.length !== request.texts.length) {
      throw new UpstreamError({
        provider: id,
        model: request.model,
        kind: 'server',
        message: `${id}/${request.model}: ${vectors.length} embeddings for ${request.texts.length} texts`,
      });
    }
    return { vectors, inputTokens: response.usage?.prompt_tokens ?? 0 };
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw toOpenAIUpstreamError(error, id, request.model, request.signal?.aborted ?? false);
  }
}

/** Token usage of a completion, cached and reasoning tokens included. */
export function readUsage(completion: ChatCompletion): TokenUsage {
  const usage = completion.usage;
  const inputTokens = usage?.prompt_tokens ?? 0;
  const outputTokens = usage?.completion_tokens ?? 0;
  return {
    inputTokens,
    cachedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens,
    reasoningTokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
    totalTokens: usage?.total_tokens ?? inputTokens + outputTokens,
  };
}

function mapFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

/**
 * The provider contract: what every model adapter (OpenAI, Gemini, offline, ...) implements.
 * It imports no provider and knows nothing of routing, retries or storage.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

/** An image the customer sent, in memory only for the turn that shows it to a vision model (never stored). */
export interface ImageInput {
  /** image/jpeg, image/png or image/webp. */
  mediaType: string;
  data: Buffer;
}

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Images of a user turn; only a model whose catalog entry has the `vision` capability is given them. */
  images?: readonly ImageInput[];
}

/** A knowledge snippet retrieved for the request; real models see it in the system prompt, the offline provider answers from it. */
export interface KnowledgeSnippet {
  id: string;
  question: string;
  answer: string;
  /** Retrieval score in [0,1]; higher is a closer match to the customer's message. */
  score: number;
  /** A Q/A entry, an approved correction, or a passage of a document (question: its title and headings). */
  source: 'knowledge' | 'correction' | 'document';
  /** A document passage's source: the page URL or the file name. */
  citation?: string;
  /** The passage of the hybrid search it came from (knowledge_chunks id), recorded as the interaction's chunk_ids. */
  chunkId?: string;
}

export interface GenerateRequest {
  /** Model id as the provider names it (e.g. gpt-4o-mini, gemini-2.0-flash). */
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxOutputTokens?: number;
  /** Aborts the call; the adapter must stop waiting and throw an UpstreamError of kind timeout. */
  signal?: AbortSignal;
  knowledge?: KnowledgeSnippet[];
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'other';

export interface TokenUsage {
  inputTokens: number;
  /** Part of inputTokens served from the provider's prompt cache. */
  cachedInputTokens: number;
  /** Includes reasoning tokens. */
  outputTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  /** Provider-specific details worth keeping (safety ratings, response id, ...). */
  metadata?: Record<string, unknown>;
}

/** One audio clip to turn into text (a WhatsApp voice note). */
export interface TranscriptionRequest {
  /** gpt-4o-mini-transcribe, whisper-1, or a Gemini model that takes audio as inline data. */
  model: string;
  audio: Buffer;
  /** audio/ogg, audio/mpeg, audio/mp4 or audio/amr. */
  mediaType: string;
  signal?: AbortSignal;
}

export interface TranscriptionResult {
  text: string;
  /** Token usage when the provider bills by tokens (gpt-4o-mini-transcribe reports it; Gemini always does). */
  usage: TokenUsage;
  /** The clip's length when the provider reports it (whisper-1 does). */
  audioSeconds?: number;
}

export interface EmbedRequest {
  /** Embedding model id as the provider names it (text-embedding-3-small, gemini-embedding-001). */
  model: string;
  texts: string[];
  /** Reduced output dimensions (OpenAI `dimensions`, Gemini `outputDimensionality`). */
  dimensions: number;
  /** A query is embedded differently from a stored passage by providers that distinguish them (Gemini task types). */
  purpose: 'document' | 'query';
  signal?: AbortSignal;
}

export interface EmbedResult {
  /** One vector per text, in order. */
  vectors: number[][];
  /** Input tokens billed, as the provider reports them (or counted locally when it reports none). */
  inputTokens: number;
}

/** A chat model behind one provider. */
export interface LanguageModelProvider {
  /** Stable provider id: 'openai', 'gemini', 'offline', or a configured OpenAI-compatible id. */
  readonly id: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Speech to text; absent when the provider has none (the offline answerer). Throws UpstreamError like generate. */
  transcribe?(request: TranscriptionRequest): Promise<TranscriptionResult>;
  /** Embeddings, where the provider has an embedding model; throws an UpstreamError like generate. */
  embed?(request: EmbedRequest): Promise<EmbedResult>;
}

export type UpstreamErrorKind =
  | 'rate_limit'
  | 'timeout'
  | 'server'
  | 'auth'
  | 'bad_request'
  | 'context_length'
  | 'content_filter'
  | 'network'
  /** Parley refused to call the destination (a tenant URL that is or resolves to an internal address): never retried, not the provider's health. */
  | 'forbidden_destination';

export interface UpstreamErrorOptions {
  provider: string;
  model: string;
  kind: UpstreamErrorKind;
  message: string;
  status?: number;
  retryAfterMs?: number;
  /** Overrides the default retryability of the kind. */
  isRetryable?: boolean;
  cause?: unknown;
  metadata?: Record<string, unknown>;
}

const RETRYABLE_KINDS: ReadonlySet<UpstreamErrorKind> = new Set(['rate_limit', 'timeout', 'server', 'network']);

/** The one typed error every adapter throws; retry and failover read its fields, never its message. */
export class UpstreamError extends Error {
  readonly provider: string;
  readonly model: string;
  readonly kind: UpstreamErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly isRetryable: boolean;
  readonly metadata: Record<string, unknown> | undefined;

  constructor(options: UpstreamErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'UpstreamError';
    this.provider = options.provider;
    this.model = options.model;
    this.kind = options.kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.isRetryable = options.isRetryable ?? RETRYABLE_KINDS.has(options.kind);
    this.metadata = options.metadata;
  }
}

/** Zero usage, for providers that report none. */
export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0, totalTokens: 0 };
}

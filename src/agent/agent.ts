/**
 * The agent turn: the conversation's recent history and the tenant's relevant knowledge go to a model through
 * the reply generator; the answer comes back with everything needed to record the AgentInteraction.
 */
import crypto from 'node:crypto';
import type { Conversation } from '../db/entities/conversation';
import type { MediaItem, Message } from '../db/entities/message';
import type { HistoryMessage, MessageRepository } from '../db/repositories/message-repository';
import { nothingRelevant, passagesToSnippets, withSourceLink } from '../knowledge/grounding';
import type { KnowledgeSearch, SearchOutcome } from '../knowledge/hybrid-search';
import { knowledgeSettingsOf } from '../knowledge/knowledge-settings';
import { isSmallTalk } from '../llm/providers/offline/offline-provider';
import type { ReplyGenerator, RoutingLearningRecord } from '../llm/reply-generator';
import { escalationInForce } from '../llm/routing/feedback-rewards';
import type { ChatMessage, FinishReason, ImageInput, KnowledgeSnippet, TokenUsage } from '../llm/types';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { documentForModel } from '../whatsapp/media/customer-document';
import { type BotHandoffReason, botHandoffNotice } from './bot-handoff';

export interface AgentAnswer {
  interactionId: string;
  text: string;
  provider: string;
  model: string;
  usage: TokenUsage;
  latencyMs: number;
  finishReason: FinishReason;
  /** The Q/A entries and approved corrections the answer was grounded on (their own ids). */
  knowledgeIds: string[];
  /** Every passage the answer was grounded on (knowledge_chunks ids): documents', entries' and corrections'. */
  chunkIds: string[];
  routing: Record<string, unknown> | null;
  learning: RoutingLearningRecord | null;
  /** The bot hands the conversation to a person with this answer (its text is the notice saying so). */
  handoffReason?: BotHandoffReason;
}

/** Finds the passages for a turn: documents, Q/A entries and approved corrections (knowledge/hybrid-search.ts). */
export type PassageSearch = Pick<KnowledgeSearch, 'search'>;

/** Passages a turn asks for: Q/A entries and corrections are passages too now, so a few more than documents alone. */
const PASSAGES_PER_TURN = 6;

/** The order the snippets are given in: on an equal score the human's correction wins over the entry it corrects. */
const SOURCE_ORDER: Record<KnowledgeSnippet['source'], number> = { correction: 0, knowledge: 1, document: 2 };

export interface AgentOptions {
  /** How many earlier messages of the conversation the model sees. */
  historyLimit: number;
}

/** The history the model sees by default: the last 20 messages (the inbox loads as many with the turn). */
export const DEFAULT_HISTORY_LIMIT = 20;

const DEFAULT_SYSTEM_PROMPT =
  'You are a friendly, concise customer-service assistant answering on WhatsApp. Answer only from the business ' +
  'knowledge below and the conversation. If you do not know, say so and offer to connect the customer with a person. ' +
  'Keep answers short: a few sentences, plain text, no markdown tables.';

/** Renders the system prompt: the tenant's voice, then the retrieved knowledge. */
export function buildSystemPrompt(resolved: Pick<ResolvedTenant, 'tenant' | 'settings'>, knowledge: KnowledgeSnippet[]): string {
  const base = resolved.settings.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const lines = [`${base}\nBusiness: ${resolved.tenant.name}.`];
  const entries = knowledge.filter((snippet) => snippet.source === 'knowledge');
  const corrections = knowledge.filter((snippet) => snippet.source === 'correction');
  const passages = knowledge.filter((snippet) => snippet.source === 'document');
  if (passages.length > 0) {
    lines.push("Passages from the business's documents (answer from them; do not add facts they do not state):");
    for (const snippet of passages) lines.push(`- [${snippet.question || 'Document'}]\n  ${snippet.answer}`);
  }
  if (entries.length > 0) {
    lines.push('Business knowledge (question -> answer):');
    for (const snippet of entries) lines.push(`- Q: ${snippet.question}\n  A: ${snippet.answer}`);
  }
  if (corrections.length > 0) {
    lines.push('Corrections from human agents to earlier answers; follow them:');
    for (const snippet of corrections) lines.push(`- When asked: ${snippet.question}\n  Answer like: ${snippet.answer}`);
  }
  return lines.join('\n');
}

/**
 * An earlier customer message as the model reads it: its text (a voice note's transcript already is the text), then
 * a note for each photo (its stored description; the photo itself is not kept), a read PDF's text (bounded, marked as
 * the customer's document), or a note for media the bot could not take in.
 */
export function withMediaNotes(body: string, media: readonly MediaItem[]): string {
  const notes = media.flatMap((item) => {
    if (item.outcome === 'transcribed' && item.transcript) return [];
    if (item.kind === 'image') return [item.description ? `[Photo: ${item.description}]` : '[Photo]'];
    if (item.kind === 'audio') return ['[Voice note that could not be transcribed]'];
    if (item.kind === 'document') return [item.outcome === 'text_extracted' ? documentForModel(item) : '[PDF document]'];
    return ['[Attachment]'];
  });
  return [body, ...notes].filter((part) => part !== '').join('\n');
}

/** Answers one inbound message. */
export class Agent {
  constructor(
    private readonly messages: MessageRepository,
    private readonly replies: ReplyGenerator,
    private readonly options: AgentOptions,
    private readonly passageSearch?: PassageSearch,
  ) {}

  /**
   * The conversation as the customer saw it before `inbound`, oldest first (see MessageRepository.recentHistory);
   * `loaded`: the same, newest first, when the caller loaded it with the turn (the inbox does: one statement fewer).
   */
  async loadHistory(inbound: Message, loaded?: readonly HistoryMessage[]): Promise<ChatMessage[]> {
    const rows = loaded
      ? loaded.slice(0, this.options.historyLimit)
      : await this.messages.recentHistory(inbound, this.options.historyLimit);
    return [...rows].reverse().map((row) => ({
      role: row.direction === 'inbound' ? 'user' : 'assistant',
      content: row.direction === 'inbound' ? withMediaNotes(row.body, row.media ?? []) : row.body,
    }));
  }

  /** Produces the reply to `inbound`, routed with the conversation's escalation after not-helpful answers. */
  async respond(
    resolved: ResolvedTenant,
    inbound: Message,
    conversation?: Pick<Conversation, 'routingEscalation' | 'routingEscalatedAt'>,
    /**
     * `images`: the customer's photos for this turn (the router then considers only vision-capable models);
     * `history`: the conversation before `inbound`, newest first, when the caller loaded it with the turn.
     */
    turn: { images?: readonly ImageInput[]; history?: readonly HistoryMessage[] } = {},
  ): Promise<AgentAnswer> {
    const { tenant, credentials } = resolved;
    const interactionId = crypto.randomUUID();
    const nothingFound: SearchOutcome = { passages: [], vectorLeg: 'no_provider', embeddingModel: null, tenantHasDocuments: false };
    const [history, found] = await Promise.all([
      this.loadHistory(inbound, turn.history),
      // One hybrid search for documents, entries and corrections; the query is embedded once here, for the whole
      // turn, and its usage row points to this interaction.
      this.passageSearch
        ? this.passageSearch.search(resolved, inbound.body, {
            limit: PASSAGES_PER_TURN,
            context: { conversationId: inbound.conversationId, interactionId },
          })
        : Promise.resolve(nothingFound),
    ]);
    const knowledge = passagesToSnippets(found.passages).sort((left, right) => SOURCE_ORDER[left.source] - SOURCE_ORDER[right.source]);
    const settings = knowledgeSettingsOf(resolved.settings);
    // A tenant with documents whose question found nothing relevant: say so and hand over to a person rather than guess.
    if (settings.fallbackToHuman && found.tenantHasDocuments && nothingRelevant(knowledge) && !isSmallTalk(inbound.body)) {
      return {
        interactionId,
        text: botHandoffNotice('low_retrieval_confidence', inbound.body, resolved.settings.language),
        provider: 'offline',
        model: 'knowledge-fallback',
        usage: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0, totalTokens: 0 },
        latencyMs: 0,
        finishReason: 'stop',
        knowledgeIds: [],
        chunkIds: [],
        routing: { reason: 'knowledge_fallback', vectorLeg: found.vectorLeg },
        learning: null,
        handoffReason: 'low_retrieval_confidence',
      };
    }
    const messages: ChatMessage[] = [
      { role: 'system', content: buildSystemPrompt(resolved, knowledge) },
      ...history,
      { role: 'user', content: inbound.body, ...(turn.images?.length ? { images: turn.images } : {}) },
    ];
    const outcome = await this.replies.generate({
      tenantId: tenant.id,
      tenantSettings: resolved.settings,
      credentials,
      conversationId: inbound.conversationId,
      interactionId,
      messages,
      knowledge,
      routingEscalation: conversation ? escalationInForce(conversation, new Date()) : 0,
    });
    // Every passage the model was given is recorded as used (the prompt holds only relevant ones).
    // Every model the tenant could use failed: the offline answer is a stopgap, and the next message would fail the
    // same way, so a person takes over (the interaction still records the offline answer's attempts).
    const failed = outcome.providersFailed === true;
    const text = failed ? botHandoffNotice('provider_failure', inbound.body, resolved.settings.language) : outcome.text;
    return {
      interactionId,
      text: settings.sourceLinks && !failed ? withSourceLink(text, knowledge) : text,
      provider: outcome.provider,
      model: outcome.model,
      usage: outcome.usage,
      latencyMs: outcome.latencyMs,
      finishReason: outcome.finishReason,
      knowledgeIds: knowledge.filter((snippet) => snippet.source !== 'document').map((snippet) => snippet.id),
      chunkIds: knowledge.flatMap((snippet) => (snippet.chunkId ? [snippet.chunkId] : [])),
      routing: outcome.routing && { ...outcome.routing, knowledgeVectorLeg: found.vectorLeg },
      learning: outcome.learning,
      ...(failed ? { handoffReason: 'provider_failure' as const } : {}),
    };
  }
}

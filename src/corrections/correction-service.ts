/**
 * Corrections of a tenant: create (from an interaction or free-standing), list, read, update, delete, approve and
 * export for training. Every query is scoped to the caller's tenant, so another tenant's ids are simply not found.
 */
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../access/api-key-service';
import type { Correction, CorrectionContextMessage } from '../db/entities/correction';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { CorrectionRepository, CorrectionRow } from '../db/repositories/correction-repository';
import type { MessageRepository } from '../db/repositories/message-repository';
import { badRequest, forbidden, notFound } from '../http/errors';
import { type Page, toPage } from '../http/pagination';
import type { QuestionAnswerPassages } from '../knowledge/question-answer-passages';
import type { TenantService } from '../tenants/tenant-service';
import { exportCorrections } from './correction-export';
import type {
  ApproveCorrectionBody,
  CorrectionBody,
  CorrectionListQuery,
  CreateCorrectionBody,
  ExportQuery,
  UpdateCorrectionBody,
} from './correction-schemas';

/** How many earlier messages of the conversation a correction keeps as context for training export. */
const CONTEXT_MESSAGES = 10;

const iso = (value: Date | string) => new Date(value).toISOString();

/** The API form of a stored correction row. */
export function presentCorrection(row: CorrectionRow): CorrectionBody {
  return {
    id: row.id,
    interaction_id: row.agent_interaction_id,
    conversation_id: row.conversation_id,
    customer_message: row.customer_message,
    context: row.context,
    bot_response: row.bot_response,
    human_response: row.human_response,
    correction_reason: row.correction_reason,
    correction_category: row.correction_category,
    corrected_by: row.corrected_by,
    approved_for_training: row.approved_for_training,
    quality_score: row.quality_score === null ? null : Number(row.quality_score),
    approved_by: row.approved_by,
    approved_at: row.approved_at ? iso(row.approved_at) : null,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

interface InteractionSource {
  conversationId: string;
  customerMessage: string;
  botResponse: string;
  context: CorrectionContextMessage[];
}

/** What the corrections service reads besides its own table. */
export interface CorrectionServiceDependencies {
  corrections: CorrectionRepository;
  interactions: AgentInteractionRepository;
  messages: MessageRepository;
  conversations: ConversationRepository;
  tenants: TenantService;
  /** Opens the transaction a change and its passage are written in. */
  dataSource: Pick<DataSource, 'transaction'>;
  /** An approved correction is a passage of the hybrid search (knowledge/question-answer-passages.ts). */
  passages: QuestionAnswerPassages;
}

/** The corrections API's commands and reads. */
export class CorrectionService {
  constructor(private readonly deps: CorrectionServiceDependencies) {}

  /** A page of the tenant's corrections, newest first, filtered by category, approval, quality and interaction. */
  async list(tenantId: string, query: CorrectionListQuery): Promise<Page<CorrectionBody>> {
    const rows = await this.deps.corrections.list(tenantId, {
      ...query,
      minQuality: query.min_quality,
      interactionId: query.interaction_id,
    });
    return toPage(rows, query.limit, presentCorrection);
  }

  /** One correction of the tenant; 404 otherwise. */
  async find(tenantId: string, id: string): Promise<CorrectionBody> {
    const row = await this.deps.corrections.findRow(tenantId, id);
    if (!row) throw notFound('Correction');
    return presentCorrection(row);
  }

  /** Records a correction by the caller; fields given in the body win over those taken from the interaction. */
  async create(auth: AuthContext, body: CreateCorrectionBody): Promise<CorrectionBody> {
    const source = body.interaction_id ? await this.loadInteraction(auth.tenantId, body.interaction_id) : undefined;
    if (source && body.conversation_id && body.conversation_id !== source.conversationId) {
      throw badRequest('conversation_id does not match the interaction’s conversation');
    }
    if (!source && body.conversation_id && !(await this.deps.conversations.exists(body.conversation_id, auth.tenantId))) {
      throw notFound('Conversation');
    }
    const botResponse = body.bot_response ?? source?.botResponse;
    const customerMessage = body.customer_message ?? source?.customerMessage;
    if (!botResponse || !customerMessage)
      throw badRequest('The interaction has no reply or message to correct; give customer_message and bot_response');
    const id = await this.deps.corrections.insert({
      tenantId: auth.tenantId,
      agentInteractionId: body.interaction_id ?? null,
      conversationId: source?.conversationId ?? body.conversation_id ?? null,
      customerMessage,
      context: source?.context ?? [],
      botResponse,
      humanResponse: body.human_response,
      correctionReason: body.correction_reason || null,
      correctionCategory: body.correction_category,
      correctedBy: auth.userId,
      approvedForTraining: false,
      qualityScore: null,
      approvedBy: null,
      approvedAt: null,
    });
    return this.find(auth.tenantId, id);
  }

  /** Changes a correction. Changing what was said or asked withdraws an approval: the new text was not reviewed. */
  async update(tenantId: string, id: string, body: UpdateCorrectionBody): Promise<CorrectionBody> {
    const correction = await this.deps.corrections.find(tenantId, id);
    if (!correction) throw notFound('Correction');
    const textChanged =
      (body.human_response !== undefined && body.human_response !== correction.humanResponse) ||
      (body.customer_message !== undefined && body.customer_message !== correction.customerMessage);
    if (body.customer_message !== undefined) correction.customerMessage = body.customer_message;
    if (body.bot_response !== undefined) correction.botResponse = body.bot_response;
    if (body.human_response !== undefined) correction.humanResponse = body.human_response;
    if (body.correction_reason !== undefined) correction.correctionReason = body.correction_reason || null;
    if (body.correction_category !== undefined) correction.correctionCategory = body.correction_category;
    if (textChanged && correction.approvedForTraining) {
      correction.approvedForTraining = false;
      correction.approvedBy = null;
      correction.approvedAt = null;
    }
    await this.saveWithPassage(tenantId, correction);
    return this.find(tenantId, id);
  }

  /** Deletes a correction of the tenant (its passage goes with it); 404 when there is none. */
  async delete(tenantId: string, id: string): Promise<void> {
    const correction = await this.deps.corrections.find(tenantId, id);
    if (!correction) throw notFound('Correction');
    await this.deps.dataSource.transaction(async (manager) => {
      if (!(await this.deps.corrections.delete(tenantId, id, manager))) throw notFound('Correction');
      // Only an approved correction had a passage to count.
      if (correction.approvedForTraining) await this.deps.passages.sourceDeleted(manager, tenantId);
    });
  }

  /** Saves a changed correction and, in the same transaction, its passage (written while approved, removed otherwise). */
  private async saveWithPassage(tenantId: string, correction: Correction): Promise<void> {
    await this.deps.dataSource.transaction(async (manager) => {
      await this.deps.corrections.save(correction, manager);
      await this.deps.passages.indexCorrection(manager, tenantId, correction);
    });
    this.deps.passages.changed(tenantId);
  }

  /** Approves (or withdraws approval of) a correction for training and as guidance, with a quality score 0.0..5.0. */
  async approve(auth: AuthContext, id: string, body: ApproveCorrectionBody): Promise<CorrectionBody> {
    const correction = await this.deps.corrections.find(auth.tenantId, id);
    if (!correction) throw notFound('Correction');
    if (body.approved && correction.correctedBy === auth.userId && (await this.forbidsSelfApproval(auth.tenantId))) {
      throw forbidden('This tenant requires another person to approve your correction', 'self_approval_forbidden');
    }
    correction.approvedForTraining = body.approved;
    correction.qualityScore = body.quality_score;
    correction.approvedBy = body.approved ? auth.userId : null;
    correction.approvedAt = body.approved ? new Date() : null;
    await this.saveWithPassage(auth.tenantId, correction);
    return this.find(auth.tenantId, id);
  }

  /** Streams the tenant's approved corrections as training JSONL through `write`; returns how many lines were written. */
  async export(tenantId: string, query: ExportQuery, write: (chunk: string) => Promise<void>): Promise<number> {
    const resolved = await this.deps.tenants.findById(tenantId);
    if (!resolved) throw notFound('Tenant');
    return exportCorrections(this.deps.corrections, resolved, query, write);
  }

  /** True when the tenant's settings forbid approving one's own correction (`settings.forbidSelfApproval`). */
  private async forbidsSelfApproval(tenantId: string): Promise<boolean> {
    const resolved = await this.deps.tenants.findById(tenantId);
    return resolved?.settings.forbidSelfApproval === true;
  }

  /** The customer's message, the bot's reply and the earlier conversation of an interaction of the tenant. */
  private async loadInteraction(tenantId: string, interactionId: string): Promise<InteractionSource> {
    const exchange = await this.deps.interactions.findExchange(interactionId, tenantId);
    if (!exchange) throw notFound('Interaction');
    const earlier = await this.deps.messages.contextBefore(exchange.conversation_id, exchange.inbound_seq, CONTEXT_MESSAGES);
    return {
      conversationId: exchange.conversation_id,
      customerMessage: exchange.inbound_body,
      botResponse: exchange.reply_body ?? '',
      context: earlier
        .reverse()
        .map((message) => ({ role: message.direction === 'inbound' ? 'user' : 'assistant', content: message.body })),
    };
  }
}

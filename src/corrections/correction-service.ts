/**
 * Corrections of a tenant: create (from an interaction or free-standing), list, read, update, delete and approve.
 * Every query is scoped to the caller's tenant, so another tenant's ids are simply not found.
 */
import type { EntityManager } from 'typeorm';
import type { AuthContext } from '../access/api-key-service';
import { Correction, type CorrectionContextMessage } from '../db/entities/correction';
import { badRequest, forbidden, notFound } from '../http/errors';
import { addPageConditions, cursorKeySql, type Page, pageOrderSql, toPage } from '../http/pagination';
import type {
  ApproveCorrectionBody,
  CorrectionBody,
  CorrectionListQuery,
  CreateCorrectionBody,
  UpdateCorrectionBody,
} from './correction-schemas';

/** How many earlier messages of the conversation a correction keeps as context for training export. */
const CONTEXT_MESSAGES = 10;

const SELECT_CORRECTION = `SELECT corrections.*, ${cursorKeySql('corrections.created_at')} AS cursor_micros FROM corrections`;

interface CorrectionRow {
  id: string;
  agent_interaction_id: string | null;
  conversation_id: string | null;
  customer_message: string;
  context: CorrectionContextMessage[];
  bot_response: string;
  human_response: string;
  correction_reason: string | null;
  correction_category: CorrectionBody['correction_category'];
  corrected_by: string | null;
  approved_for_training: boolean;
  quality_score: number | null;
  approved_by: string | null;
  approved_at: Date | null;
  created_at: Date;
  updated_at: Date;
  cursor_micros: string;
}

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
    quality_score: row.quality_score,
    approved_by: row.approved_by,
    approved_at: row.approved_at ? iso(row.approved_at) : null,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** A page of the tenant's corrections, newest first, filtered by category, approval, quality and interaction. */
export async function listCorrections(manager: EntityManager, tenantId: string, query: CorrectionListQuery): Promise<Page<CorrectionBody>> {
  const parameters: unknown[] = [tenantId];
  const conditions = ['corrections.tenant_id = $1'];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    parameters.push(value);
    conditions.push(sql(`$${parameters.length}`));
  };
  if (query.category) add((placeholder) => `corrections.correction_category = ${placeholder}`, query.category);
  if (query.approved !== undefined) add((placeholder) => `corrections.approved_for_training = ${placeholder}`, query.approved);
  if (query.min_quality !== undefined) add((placeholder) => `corrections.quality_score >= ${placeholder}`, query.min_quality);
  if (query.interaction_id) add((placeholder) => `corrections.agent_interaction_id = ${placeholder}`, query.interaction_id);
  const columns = { createdAt: 'corrections.created_at', id: 'corrections.id' };
  addPageConditions(query, columns, conditions, parameters);
  const order = pageOrderSql(query, columns, parameters);
  const rows: CorrectionRow[] = await manager.query(`${SELECT_CORRECTION} WHERE ${conditions.join(' AND ')} ${order}`, parameters);
  return toPage(rows, query.limit, presentCorrection);
}

/** One correction of the tenant; 404 otherwise. */
export async function findCorrection(manager: EntityManager, tenantId: string, id: string): Promise<CorrectionBody> {
  const [row]: CorrectionRow[] = await manager.query(`${SELECT_CORRECTION} WHERE corrections.id = $1 AND corrections.tenant_id = $2`, [id, tenantId]);
  if (!row) throw notFound('Correction');
  return presentCorrection(row);
}

interface InteractionSource {
  conversationId: string;
  customerMessage: string;
  botResponse: string;
  context: CorrectionContextMessage[];
}

/** The customer's message, the bot's reply and the earlier conversation of an interaction of the tenant. */
async function loadInteraction(manager: EntityManager, tenantId: string, interactionId: string): Promise<InteractionSource> {
  const [interaction]: Array<{ conversation_id: string; inbound_body: string; inbound_seq: string; reply_body: string | null }> = await manager.query(
    `SELECT interaction.conversation_id, inbound.body AS inbound_body, inbound.seq AS inbound_seq, reply.body AS reply_body
     FROM agent_interactions interaction
     JOIN messages inbound ON inbound.id = interaction.inbound_message_id
     LEFT JOIN messages reply ON reply.id = interaction.reply_message_id
     WHERE interaction.id = $1 AND interaction.tenant_id = $2`,
    [interactionId, tenantId],
  );
  if (!interaction) throw notFound('Interaction');
  const earlier: Array<{ direction: string; body: string }> = await manager.query(
    `SELECT direction, body FROM messages
     WHERE conversation_id = $1 AND seq < $2 AND body <> '' AND status NOT IN ('failed', 'undelivered')
     ORDER BY seq DESC LIMIT $3`,
    [interaction.conversation_id, interaction.inbound_seq, CONTEXT_MESSAGES],
  );
  return {
    conversationId: interaction.conversation_id,
    customerMessage: interaction.inbound_body,
    botResponse: interaction.reply_body ?? '',
    context: earlier.reverse().map((message) => ({ role: message.direction === 'inbound' ? 'user' : 'assistant', content: message.body })),
  };
}

/** Records a correction by the caller; fields given in the body win over those taken from the interaction. */
export async function createCorrection(manager: EntityManager, auth: AuthContext, body: CreateCorrectionBody): Promise<CorrectionBody> {
  const source = body.interaction_id ? await loadInteraction(manager, auth.tenantId, body.interaction_id) : undefined;
  if (source && body.conversation_id && body.conversation_id !== source.conversationId) {
    throw badRequest('conversation_id does not match the interaction’s conversation');
  }
  if (!source && body.conversation_id) {
    const [conversation] = await manager.query('SELECT id FROM conversations WHERE id = $1 AND tenant_id = $2', [body.conversation_id, auth.tenantId]);
    if (!conversation) throw notFound('Conversation');
  }
  const botResponse = body.bot_response ?? source?.botResponse;
  const customerMessage = body.customer_message ?? source?.customerMessage;
  if (!botResponse || !customerMessage) throw badRequest('The interaction has no reply or message to correct; give customer_message and bot_response');
  const correction = await manager.save(
    manager.create(Correction, {
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
    }),
  );
  return findCorrection(manager, auth.tenantId, correction.id);
}

/** Changes a correction. Changing what was said or asked withdraws an approval: the new text was not reviewed. */
export async function updateCorrection(manager: EntityManager, tenantId: string, id: string, body: UpdateCorrectionBody): Promise<CorrectionBody> {
  const correction = await manager.findOneBy(Correction, { id, tenantId });
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
  await manager.save(correction);
  return findCorrection(manager, tenantId, id);
}

/** Deletes a correction of the tenant. */
export async function deleteCorrection(manager: EntityManager, tenantId: string, id: string): Promise<void> {
  const result = await manager.delete(Correction, { id, tenantId });
  if (!result.affected) throw notFound('Correction');
}

/** True when the tenant's settings forbid approving one's own correction (`settings.forbidSelfApproval`). */
async function forbidsSelfApproval(manager: EntityManager, tenantId: string): Promise<boolean> {
  const [tenant]: Array<{ settings: Record<string, unknown> }> = await manager.query('SELECT settings FROM tenants WHERE id = $1', [tenantId]);
  return tenant?.settings?.forbidSelfApproval === true;
}

/** Approves (or withdraws approval of) a correction for training and as guidance, with a quality score 0..5. */
export async function approveCorrection(manager: EntityManager, auth: AuthContext, id: string, body: ApproveCorrectionBody): Promise<CorrectionBody> {
  const correction = await manager.findOneBy(Correction, { id, tenantId: auth.tenantId });
  if (!correction) throw notFound('Correction');
  if (body.approved && correction.correctedBy === auth.userId && (await forbidsSelfApproval(manager, auth.tenantId))) {
    throw forbidden('This tenant requires another person to approve your correction', 'self_approval_forbidden');
  }
  correction.approvedForTraining = body.approved;
  correction.qualityScore = body.quality_score;
  correction.approvedBy = body.approved ? auth.userId : null;
  correction.approvedAt = body.approved ? new Date() : null;
  await manager.save(correction);
  return findCorrection(manager, auth.tenantId, id);
}

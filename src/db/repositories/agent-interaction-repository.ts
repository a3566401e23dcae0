/**
 * The SQL on `agent_interactions`: one row per answer of the bot, read by feedback (which answer a click or a
 * follow-up belongs to) and by corrections (what was asked and said). The row itself is inserted by the turn's
 * finishing statement (MessageRepository.finishTurn), in the same statement that stores the reply it describes;
 * routing's feedback credit updates its credited columns (routing-posterior-repository.ts).
 */
import type { EntityManager } from 'typeorm';

/** An inbound message, located in its conversation. */
export interface InboundPosition {
  tenantId: string;
  conversationId: string;
  seq: string;
}

/** What a correction of an interaction starts from. */
export interface InteractionExchange {
  conversation_id: string;
  inbound_body: string;
  inbound_seq: string;
  reply_body: string | null;
}

/**
 * The conversation's latest answer before a message (SQL expressions for its conversation, tenant and seq): the
 * interaction's id, tenant and conversation, and when its reply left Parley (null while unsent). Found walking the
 * conversation's messages back from the message (the (conversation_id, seq) index) until one was answered, usually
 * one step; reading all of the conversation's interactions to sort them grew with the conversation (7 ms for a
 * customer's 38th message). Also the first step of the implicit-feedback write (interaction-feedback-repository.ts).
 */
export const previousAnswerSql = (conversationId: string, tenantId: string, seq: string) => `
SELECT interaction.id, interaction.tenant_id, interaction.conversation_id,
       (SELECT max(COALESCE(reply.processed_at, reply.created_at)) FROM messages reply
         WHERE reply.reply_to_message_id = interaction.inbound_message_id AND reply.author = 'bot') AS reply_sent_at
  FROM messages answered JOIN agent_interactions interaction ON interaction.inbound_message_id = answered.id
 WHERE answered.conversation_id = ${conversationId} AND answered.seq < ${seq} AND answered.direction = 'inbound'
   AND interaction.tenant_id = ${tenantId}
 ORDER BY answered.seq DESC LIMIT 1`;

/** Reads and writes `agent_interactions`. */
export class AgentInteractionRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The passages each of these replies was grounded on (agent_interactions.chunk_ids), by reply message id. */
  async chunkIdsOfReplies(tenantId: string, replyMessageIds: readonly string[]): Promise<Map<string, string[]>> {
    if (replyMessageIds.length === 0) return new Map();
    const rows: Array<{ reply_message_id: string; chunk_ids: string[] }> = await this.manager.query(
      `SELECT reply_message_id, chunk_ids FROM agent_interactions
       WHERE tenant_id = $1 AND reply_message_id = ANY($2::uuid[]) AND jsonb_array_length(chunk_ids) > 0`,
      [tenantId, replyMessageIds],
    );
    return new Map(rows.map((row) => [row.reply_message_id, row.chunk_ids]));
  }

  /** True when the interaction is the tenant's and belongs to this conversation. */
  async belongsToConversation(id: string, tenantId: string, conversationId: string): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      'SELECT 1 FROM agent_interactions WHERE id = $1 AND tenant_id = $2 AND conversation_id = $3',
      [id, tenantId, conversationId],
    );
    return rows.length > 0;
  }

  /** How many answers the bot has given in a conversation. */
  async countInConversation(conversationId: string): Promise<number> {
    const rows: Array<{ count: string }> = await this.manager.query(
      'SELECT count(*) AS count FROM agent_interactions WHERE conversation_id = $1',
      [conversationId],
    );
    return Number(rows[0]?.count ?? 0);
  }

  /** The tenant an interaction belongs to, or null when there is no such interaction. */
  async tenantOf(id: string): Promise<string | null> {
    const rows: Array<{ tenant_id: string }> = await this.manager.query('SELECT tenant_id FROM agent_interactions WHERE id = $1', [id]);
    return rows[0]?.tenant_id ?? null;
  }

  /**
   * The conversation's latest answer before `inbound`, with when its reply left Parley (null while unsent);
   * null when there was none.
   */
  async findPreviousAnswer(
    inbound: InboundPosition,
    manager: EntityManager = this.manager,
  ): Promise<{ id: string; reply_sent_at: Date | null } | null> {
    const rows: Array<{ id: string; reply_sent_at: Date | null }> = await manager.query(previousAnswerSql('$1', '$2', '$3'), [
      inbound.conversationId,
      inbound.tenantId,
      inbound.seq,
    ]);
    return rows[0] ?? null;
  }

  /** The customer's message and the bot's first reply part of an interaction of the tenant, or null. */
  async findExchange(id: string, tenantId: string): Promise<InteractionExchange | null> {
    const rows: InteractionExchange[] = await this.manager.query(
      `SELECT interaction.conversation_id, inbound.body AS inbound_body, inbound.seq AS inbound_seq, reply.body AS reply_body
       FROM agent_interactions interaction
       JOIN messages inbound ON inbound.id = interaction.inbound_message_id
       LEFT JOIN messages reply ON reply.id = interaction.reply_message_id
       WHERE interaction.id = $1 AND interaction.tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ?? null;
  }
}

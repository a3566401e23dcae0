/**
 * The one home of the SQL on `conversations` and `customers`. A customer is only ever reached through its
 * conversation (one per customer and tenant), so the two tables share this repository. Two statements of
 * db/repositories/message-repository.ts also write them, where one statement instead of several is the point: the
 * webhook's accept statement creates customers and conversations with the messages, and a turn's finishing
 * statement records the conversation's activity time and the customer's profile changes.
 */
import type { EntityManager } from 'typeorm';
import type { ConversationStatus, HandoffReason } from '../entities/conversation';

/** A conversation with its customer, as the conversation API shows it. */
export interface ConversationSummary {
  id: string;
  status: ConversationStatus;
  handoff_reason: HandoffReason | null;
  handoff_at: Date | null;
  agent_replied_at: Date | null;
  opted_out_at: Date | null;
  flagged_reason: string | null;
  flagged_at: Date | null;
  last_message_at: Date;
  created_at: Date;
  whatsapp_address: string;
  profile_name: string | null;
}

/** The customer a conversation is with. */
export interface ConversationCustomer {
  whatsapp_address: string;
  profile_name: string | null;
}

const SUMMARY_COLUMNS = `conversations.id, conversations.status, conversations.handoff_reason, conversations.handoff_at,
       conversations.agent_replied_at, customers.opted_out_at, conversations.flagged_reason, conversations.flagged_at,
       conversations.last_message_at, conversations.created_at, customers.whatsapp_address, customers.profile_name`;

/** Reads and writes `conversations` and `customers`. */
export class ConversationRepository {
  constructor(private readonly manager: EntityManager) {}

  /** True when the tenant has this conversation. */
  async exists(id: string, tenantId: string): Promise<boolean> {
    const rows: unknown[] = await this.manager.query('SELECT 1 FROM conversations WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
    return rows.length > 0;
  }

  /** The tenant's conversations, most recently active first, optionally of one status or flagged only. */
  list(tenantId: string, filter: { status?: ConversationStatus; flagged?: boolean }, limit: number): Promise<ConversationSummary[]> {
    return this.manager.query(
      `SELECT ${SUMMARY_COLUMNS}
       FROM conversations JOIN customers ON customers.id = conversations.customer_id
       WHERE conversations.tenant_id = $1 AND ($2::varchar IS NULL OR conversations.status = $2)
         AND ($3::boolean IS NULL OR (conversations.flagged_at IS NOT NULL) = $3)
       ORDER BY conversations.last_message_at DESC LIMIT $4`,
      [tenantId, filter.status ?? null, filter.flagged ?? null, limit],
    );
  }

  /** Flags a conversation for a person (the bot keeps answering), in the turn's transaction. */
  async flag(id: string, reason: string, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE conversations SET flagged_reason = $2, flagged_at = now(), updated_at = now() WHERE id = $1', [id, reason]);
  }

  /** Clears a conversation's flag (a person has taken a look: answered or handed it back). */
  async clearFlag(id: string, tenantId: string): Promise<void> {
    await this.manager.query(
      'UPDATE conversations SET flagged_reason = NULL, flagged_at = NULL, updated_at = now() WHERE id = $1 AND tenant_id = $2 AND flagged_at IS NOT NULL',
      [id, tenantId],
    );
  }

  /** One conversation of the tenant with its customer, or null. */
  async findSummary(id: string, tenantId: string): Promise<ConversationSummary | null> {
    const rows: ConversationSummary[] = await this.manager.query(
      `SELECT ${SUMMARY_COLUMNS}
       FROM conversations JOIN customers ON customers.id = conversations.customer_id
       WHERE conversations.id = $1 AND conversations.tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ?? null;
  }

  /**
   * Puts a conversation of the tenant in handoff, recording why and when; returns its customer, or null when it
   * already was in handoff (its recorded reason stays the first one).
   */
  async startHandoff(id: string, tenantId: string, reason: HandoffReason, manager: EntityManager): Promise<ConversationCustomer | null> {
    const [rows] = await manager.query(
      `UPDATE conversations SET status = 'handoff', handoff_reason = $3, handoff_at = now(), updated_at = now()
       FROM customers WHERE conversations.id = $1 AND conversations.tenant_id = $2 AND conversations.status <> 'handoff'
         AND customers.id = conversations.customer_id
       RETURNING customers.whatsapp_address, customers.profile_name`,
      [id, tenantId, reason],
    );
    return (rows as ConversationCustomer[])[0] ?? null;
  }

  /**
   * A human agent wrote to the customer (the API, the dashboard, or a send Parley saw from the business number and
   * did not make): the conversation is theirs. It goes to handoff (reason agent_took_over, unless it already was in
   * handoff) and the agent's time is recorded, from which the tenant's idle time runs. Returns true when this
   * started the handoff.
   */
  async agentReplied(id: string, tenantId: string, manager: EntityManager = this.manager): Promise<boolean> {
    const [rows] = await manager.query(
      `UPDATE conversations
          SET handoff_reason = CASE WHEN status = 'handoff' THEN handoff_reason ELSE 'agent_took_over' END,
              handoff_at = CASE WHEN status = 'handoff' THEN handoff_at ELSE now() END,
              status = 'handoff', agent_replied_at = now(), updated_at = now()
        WHERE id = $1 AND tenant_id = $2
       RETURNING (handoff_at = now()) AS started`,
      [id, tenantId],
    );
    return (rows as Array<{ started: boolean }>)[0]?.started === true;
  }

  /**
   * The bot takes a conversation back after the agent's idle time (the turn's transaction): only while it is still
   * in handoff and the agent has not written since `agentRepliedAt`.
   */
  async resumeAfterIdle(id: string, agentRepliedAt: Date, manager: EntityManager): Promise<void> {
    await manager.query(
      // The time came back through JavaScript (milliseconds); PostgreSQL keeps microseconds: "not after it" is "before
      // the next millisecond".
      `UPDATE conversations SET status = 'active', updated_at = now()
        WHERE id = $1 AND status = 'handoff' AND agent_replied_at < $2::timestamptz + interval '1 millisecond'`,
      [id, agentRepliedAt],
    );
  }

  /** The conversation of the tenant with this customer address, if any (a send seen from the business number). */
  async findByCustomerAddress(tenantId: string, address: string): Promise<string | null> {
    const rows: Array<{ id: string }> = await this.manager.query(
      `SELECT conversations.id FROM conversations JOIN customers ON customers.id = conversations.customer_id
        WHERE conversations.tenant_id = $1 AND customers.whatsapp_address = $2`,
      [tenantId, address],
    );
    return rows[0]?.id ?? null;
  }

  /** When the customer last wrote in this conversation (the start of WhatsApp's 24-hour window); null if never. */
  async lastCustomerMessageAt(id: string): Promise<Date | null> {
    const rows: Array<{ at: Date | null }> = await this.manager.query(
      `SELECT max(created_at) AS at FROM messages WHERE conversation_id = $1 AND direction = 'inbound'`,
      [id],
    );
    return rows[0]?.at ? new Date(rows[0].at) : null;
  }

  /** Whether the conversation's customer has opted out of messages. */
  async customerOptedOut(id: string, tenantId: string): Promise<boolean> {
    const rows: Array<{ opted_out_at: Date | null }> = await this.manager.query(
      `SELECT customers.opted_out_at FROM conversations JOIN customers ON customers.id = conversations.customer_id
        WHERE conversations.id = $1 AND conversations.tenant_id = $2`,
      [id, tenantId],
    );
    return Boolean(rows[0]?.opted_out_at);
  }

  /**
   * Records the customer's consent: opted out (STOP, Twilio's 21610) or in again (START), with when and why. In the
   * turn's transaction, so its now() is the confirmation message's created_at (the sender lets that one through).
   */
  async setConsent(
    conversationId: string,
    consent: 'opted_out' | 'opted_in',
    source: string,
    manager: EntityManager = this.manager,
  ): Promise<void> {
    await manager.query(
      `UPDATE customers SET opted_out_at = CASE WHEN $2 = 'opted_out' THEN COALESCE(opted_out_at, now()) ELSE NULL END,
              consent_changed_at = now(), consent_source = $3, updated_at = now()
        WHERE id = (SELECT customer_id FROM conversations WHERE id = $1)`,
      [conversationId, consent, source],
    );
  }

  /**
   * Sends the conversation's next turns one tier further up (at most `maxSteps`), after a not-helpful answer. An
   * escalation older than `lapseMs` has lapsed: the count starts again from one.
   */
  async escalateRouting(id: string, maxSteps: number, lapseMs: number, manager: EntityManager = this.manager): Promise<void> {
    await manager.query(
      `UPDATE conversations
          SET routing_escalation = CASE WHEN routing_escalated_at > now() - make_interval(secs => $3::double precision / 1000)
                                        THEN LEAST(routing_escalation + 1, $2) ELSE LEAST(1, $2) END,
              routing_escalated_at = now(), updated_at = now()
        WHERE id = $1`,
      [id, maxSteps, lapseMs],
    );
  }

  /**
   * Gives a conversation in handoff back to the bot. Returns whether it did and the conversation's status (the
   * current one when it was not in handoff); null when the tenant has no such conversation.
   */
  async endHandoff(id: string, tenantId: string): Promise<{ handedBack: boolean; status: ConversationStatus } | null> {
    const [updated] = await this.manager.query(
      `UPDATE conversations SET status = 'active', updated_at = now()
       WHERE id = $1 AND tenant_id = $2 AND status = 'handoff' RETURNING id`,
      [id, tenantId],
    );
    if ((updated as unknown[]).length > 0) return { handedBack: true, status: 'active' };
    const [existing]: Array<{ status: ConversationStatus }> = await this.manager.query(
      'SELECT status FROM conversations WHERE id = $1 AND tenant_id = $2',
      [id, tenantId],
    );
    return existing ? { handedBack: false, status: existing.status } : null;
  }
}

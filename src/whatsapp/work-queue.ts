/**
 * The durable work queue is the messages table itself. Rows are claimed with FOR UPDATE SKIP LOCKED and a lease
 * (locked_until): several instances share the work, a crashed worker's rows come back when its lease expires,
 * and a conversation's messages are taken strictly in arrival order.
 */
import type { EntityManager } from 'typeorm';

export interface ClaimedInbound {
  id: string;
  tenantId: string;
  conversationId: string;
  /** Which claim this is; finishing checks it, so a worker whose lease expired cannot finish another's claim. */
  attempts: number;
}

export interface ClaimedOutbound extends ClaimedInbound {
  /** 'sending' when an earlier attempt's lease expired mid-send: it may have reached the provider. */
  previousStatus: string;
  /** The error code the earlier attempt left (send_uncertain: it timed out, it may have reached the provider). */
  previousErrorCode: string | null;
  /** When that earlier attempt claimed the row. */
  previousClaimAt: Date;
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  chunkIndex: number;
}

/** A message is blocked while an earlier one of its conversation is unfinished, in either direction. */
const NO_EARLIER_UNFINISHED = `
  NOT EXISTS (
    SELECT 1 FROM messages earlier
    WHERE earlier.conversation_id = candidate.conversation_id
      AND earlier.seq < candidate.seq
      AND earlier.status IN ('received', 'processing', 'pending', 'sending'))`;

/**
 * Inbound claims look only at each conversation's head (its earliest unfinished message), walked with a skip scan
 * over the partial (conversation_id, seq) index, starting after the conversation this queue claimed last ($3) and
 * stopping as soon as $2 claimable heads are found. So conversations are served round-robin (each conversation
 * with work gets a turn before any gets a second), and a claim costs about as many index probes as it claims,
 * however many conversations have a backlog. (Scanning every unfinished message grew with the backlog; visiting
 * every head to order them grew with the number of busy conversations: both made a backlog feed itself.)
 * The UPDATE re-checks the claim condition on the locked row.
 */
const CLAIM_INBOUND_SQL = `
WITH RECURSIVE heads AS (
  (SELECT id, conversation_id, seq, status, direction, locked_until FROM messages
   WHERE status IN ('received', 'processing', 'pending', 'sending') AND ($3::uuid IS NULL OR conversation_id > $3::uuid)
   ORDER BY conversation_id, seq LIMIT 1)
  UNION ALL
  SELECT next.id, next.conversation_id, next.seq, next.status, next.direction, next.locked_until
  FROM heads, LATERAL (
    SELECT id, conversation_id, seq, status, direction, locked_until FROM messages
    WHERE status IN ('received', 'processing', 'pending', 'sending') AND conversation_id > heads.conversation_id
    ORDER BY conversation_id, seq LIMIT 1) next
)
UPDATE messages SET status = 'processing', locked_until = now() + make_interval(secs => $1),
       attempts = messages.attempts + 1, updated_at = now()
WHERE id IN (
  SELECT candidate.id FROM messages candidate
  WHERE candidate.id IN (
      SELECT id FROM heads
      WHERE direction = 'inbound' AND status IN ('received', 'processing')
        AND (locked_until IS NULL OR locked_until < now())
      LIMIT $2)
  FOR UPDATE SKIP LOCKED)
  AND status IN ('received', 'processing')
  AND (locked_until IS NULL OR locked_until < now())
RETURNING id, tenant_id, conversation_id, attempts`;

const CLAIM_OUTBOUND_SQL = `
WITH candidates AS (
  SELECT candidate.id, candidate.status, candidate.error_code, candidate.updated_at FROM messages candidate
  WHERE candidate.status IN ('pending', 'sending')
    AND candidate.direction = 'outbound'
    AND (candidate.locked_until IS NULL OR candidate.locked_until < now())
    AND ($3::uuid IS NULL OR candidate.conversation_id = $3::uuid)
    AND ${NO_EARLIER_UNFINISHED}
  ORDER BY candidate.seq
  LIMIT $2
  FOR UPDATE SKIP LOCKED)
UPDATE messages SET status = 'sending', locked_until = now() + make_interval(secs => $1),
       attempts = messages.attempts + 1, updated_at = now()
FROM candidates WHERE messages.id = candidates.id
RETURNING messages.id, messages.tenant_id, messages.conversation_id, messages.attempts, messages.body,
          messages.content_sid, messages.content_variables, messages.chunk_index,
          candidates.status AS previous_status, candidates.error_code AS previous_error_code,
          candidates.updated_at AS previous_claim_at`;

type Row = Record<string, unknown>;

const toInbound = (row: Row): ClaimedInbound => ({
  id: row.id as string,
  tenantId: row.tenant_id as string,
  conversationId: row.conversation_id as string,
  attempts: Number(row.attempts),
});

/** The greatest conversation id among claims (where a round-robin walk over conversation ids got to). */
function lastConversation(claims: ClaimedInbound[]): string | null {
  return claims.reduce<string | null>((last, claim) => (last === null || claim.conversationId > last ? claim.conversationId : last), null);
}

/** Claims and settles inbound and outbound work. */
export class WorkQueue {
  /** The conversation this queue's last inbound claim reached; the next claim starts after it. */
  private inboundCursor: string | null = null;

  constructor(
    private readonly manager: EntityManager,
    readonly leaseSeconds: number,
  ) {}

  /** Claims up to `limit` inbound messages, at most one per conversation, taking conversations round-robin. */
  async claimInbound(limit: number): Promise<ClaimedInbound[]> {
    if (limit <= 0) return [];
    const claim = async (count: number, after: string | null) => {
      const [rows] = await this.manager.query(CLAIM_INBOUND_SQL, [this.leaseSeconds, count, after]);
      return (rows as Row[]).map(toInbound);
    };
    const claimed = await claim(limit, this.inboundCursor);
    // The walk reached the last conversation with work: wrap around to the first.
    const wrapped = claimed.length < limit && this.inboundCursor !== null ? await claim(limit - claimed.length, null) : [];
    this.inboundCursor = lastConversation(wrapped) ?? lastConversation(claimed);
    return [...claimed, ...wrapped];
  }

  /** Claims up to `limit` outbound messages ready to send, optionally of one conversation. */
  async claimOutbound(limit: number, conversationId?: string): Promise<ClaimedOutbound[]> {
    if (limit <= 0) return [];
    const [rows] = await this.manager.query(CLAIM_OUTBOUND_SQL, [this.leaseSeconds, limit, conversationId ?? null]);
    return (rows as Row[]).map((row) => ({
      ...toInbound(row),
      previousStatus: row.previous_status as string,
      previousErrorCode: (row.previous_error_code as string | null) ?? null,
      previousClaimAt: new Date(row.previous_claim_at as string | Date),
      body: row.body as string,
      contentSid: (row.content_sid as string | null) ?? null,
      contentVariables: (row.content_variables as Record<string, string> | null) ?? null,
      chunkIndex: Number(row.chunk_index),
    }));
  }

  /** Extends the lease of a claim still held; false when it was lost. */
  async renewLease(claim: ClaimedInbound): Promise<boolean> {
    const [, affected] = await this.manager.query(
      `UPDATE messages SET locked_until = now() + make_interval(secs => $3)
       WHERE id = $1 AND attempts = $2 AND status IN ('processing', 'sending')`,
      [claim.id, claim.attempts, this.leaseSeconds],
    );
    return Number(affected) > 0;
  }

  /** Puts a claim back after a transient failure, to be tried again after `delaySeconds`. */
  async retryLater(claim: ClaimedInbound, delaySeconds: number, error: string, errorCode?: string): Promise<void> {
    await this.manager.query(
      `UPDATE messages SET status = CASE direction WHEN 'inbound' THEN 'received' ELSE 'pending' END,
              locked_until = now() + make_interval(secs => $3), error_message = $4, error_code = $5, updated_at = now()
       WHERE id = $1 AND attempts = $2 AND status IN ('processing', 'sending')`,
      [claim.id, claim.attempts, delaySeconds, error.slice(0, 1000), errorCode ?? null],
    );
  }

  /** Marks a claim as failed for good. */
  async fail(claim: ClaimedInbound, error: string, errorCode?: string): Promise<void> {
    await this.manager.query(
      `UPDATE messages SET status = 'failed', locked_until = NULL, error_message = $3, error_code = $4,
              processed_at = now(), updated_at = now()
       WHERE id = $1 AND attempts = $2 AND status IN ('processing', 'sending')`,
      [claim.id, claim.attempts, error.slice(0, 1000), errorCode ?? null],
    );
  }

  /** How many messages wait for work (inbound to answer, outbound to send). */
  async backlog(): Promise<number> {
    const rows: Array<{ count: string }> = await this.manager.query(
      `SELECT count(*) AS count FROM messages WHERE status IN ('received', 'processing', 'pending', 'sending')`,
    );
    return Number(rows[0]?.count ?? 0);
  }
}

/**
 * The one home of every SQL statement on `messages`: the webhook's batched accept, the work queue's claims and
 * leases, a turn's commit, the sender's bookkeeping, status callbacks, and the reads of history and threads.
 * The messages table is also the durable work queue: rows are claimed with FOR UPDATE SKIP LOCKED and a lease
 * (locked_until), so several instances share the work, a crashed worker's rows come back when its lease expires,
 * and a conversation's messages are taken strictly in arrival order.
 *
 * Methods that may run inside a caller's transaction take its EntityManager as their last argument (n8n's
 * repositories do the same); the accept path runs straight on the pg pool (see db/direct-query.ts).
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { BurstWindow } from '../../config';
import { preparedStatement, queryDirect, queryPrepared } from '../direct-query';
import { WriteBatcher } from '../write-batcher';
import { Conversation } from '../entities/conversation';
import { continuationCtes } from './interaction-feedback-repository';
import {
  CLAIMED_STATUSES,
  DELIVERY_RANK,
  type MediaItem,
  Message,
  type MessageStatus,
  NEVER_DELIVERED_STATUSES,
  type OfferedChoice,
  type OutboundStatus,
  UNFINISHED_STATUSES,
} from '../entities/message';

/** A SQL list of status literals, e.g. ('received', 'processing'); the vocabulary is fixed, so nothing is user input. */
const statusList = (statuses: readonly MessageStatus[]) => `(${statuses.map((status) => `'${status}'`).join(', ')})`;

const UNFINISHED = statusList(UNFINISHED_STATUSES);
const CLAIMED = statusList(CLAIMED_STATUSES);
const NEVER_DELIVERED = statusList(NEVER_DELIVERED_STATUSES);

// ---------------------------------------------------------------------------------------------------------------
// Accepting inbound messages (the webhook's acknowledgement path).

// Known customers and conversations are only read (no row update on the hot path: fewer writes, no row-lock
// queueing behind a chatty customer); new ones are inserted, in a fixed order so that two concurrent batches
// take their locks in the same order. Profile changes and last_message_at are written by the processor, off
// the acknowledgement path. Messages go in in arrival order (ORDER BY ordinality), which is the order their
// seq values, and so their replies, follow.
const ACCEPT_BATCH_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::jsonb[])
    WITH ORDINALITY AS input(tenant_id, address, wa_id, profile_name, sid, body, media, message_type,
                             button_payload, button_text, replied_to_sid, raw_payload, position)
), address AS (
  SELECT DISTINCT tenant_id, address FROM input
), known_customer AS (
  SELECT customers.id, customers.tenant_id, customers.whatsapp_address AS address
  FROM customers JOIN address USING (tenant_id) WHERE customers.whatsapp_address = address.address
), new_customer AS (
  INSERT INTO customers (tenant_id, whatsapp_address, wa_id, profile_name)
  SELECT DISTINCT ON (tenant_id, address) tenant_id, address, wa_id, profile_name FROM input
  WHERE NOT EXISTS (
      SELECT 1 FROM known_customer WHERE known_customer.tenant_id = input.tenant_id AND known_customer.address = input.address)
    AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.message_sid = input.sid)
  ORDER BY tenant_id, address, position
  ON CONFLICT (tenant_id, whatsapp_address) DO UPDATE SET updated_at = customers.updated_at
  RETURNING id, tenant_id, whatsapp_address AS address
), customer AS (
  SELECT id, tenant_id, address FROM known_customer UNION ALL SELECT id, tenant_id, address FROM new_customer
), known_conversation AS (
  SELECT conversations.id, conversations.customer_id FROM conversations
  JOIN customer ON conversations.customer_id = customer.id AND conversations.tenant_id = customer.tenant_id
), new_conversation AS (
  INSERT INTO conversations (tenant_id, customer_id, last_message_at)
  SELECT customer.tenant_id, customer.id, now() FROM customer
  WHERE NOT EXISTS (SELECT 1 FROM known_conversation WHERE known_conversation.customer_id = customer.id)
  ORDER BY customer.id
  ON CONFLICT (tenant_id, customer_id) DO UPDATE SET updated_at = conversations.updated_at
  RETURNING id, customer_id
), conversation AS (
  SELECT id, customer_id FROM known_conversation UNION ALL SELECT id, customer_id FROM new_conversation
)
INSERT INTO messages (tenant_id, conversation_id, direction, author, message_sid, body, media, message_type,
                      button_payload, button_text, replied_to_sid, raw_payload, status)
SELECT input.tenant_id, conversation.id, 'inbound', 'customer', input.sid, input.body, input.media, input.message_type,
       input.button_payload, input.button_text, input.replied_to_sid, input.raw_payload, 'received'
FROM input
JOIN customer ON customer.tenant_id = input.tenant_id AND customer.address = input.address
JOIN conversation ON conversation.customer_id = customer.id
ORDER BY input.position
ON CONFLICT (message_sid) DO NOTHING
RETURNING id, conversation_id, message_sid`;

// The common case: every sender in the batch already has a conversation the caller knows. Then the message
// insert is all there is to do, and this plain statement costs PostgreSQL a fraction of ACCEPT_BATCH_SQL (no
// customer or conversation lookups, a trivial plan). The composite foreign key still checks that the
// conversation exists and belongs to the tenant. Its plan (insert from the parameters, nothing scanned) is the same
// at any table size, so it is prepared once per connection (see db/direct-query.ts).
const ACCEPT_KNOWN = preparedStatement(
  'parley_accept_known',
  `
INSERT INTO messages (tenant_id, conversation_id, direction, author, message_sid, body, media, message_type,
                      button_payload, button_text, replied_to_sid, raw_payload, status)
SELECT tenant_id, conversation_id, 'inbound', 'customer', sid, body, media, message_type,
       button_payload, button_text, replied_to_sid, raw_payload, 'received'
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::jsonb[])
  WITH ORDINALITY AS input(tenant_id, conversation_id, sid, body, media, message_type, button_payload, button_text,
                           replied_to_sid, raw_payload, position)
ORDER BY position
ON CONFLICT (message_sid) DO NOTHING
RETURNING id, conversation_id, message_sid`,
);

const FIND_BY_SIDS_SQL = 'SELECT id, conversation_id, tenant_id, message_sid FROM messages WHERE message_sid = ANY($1::text[])';

// ---------------------------------------------------------------------------------------------------------------
// The work queue.

/** A message is blocked while an earlier one of its conversation is unfinished, in either direction. */
const NO_EARLIER_UNFINISHED = `
  NOT EXISTS (
    SELECT 1 FROM messages earlier
    WHERE earlier.conversation_id = candidate.conversation_id
      AND earlier.seq < candidate.seq
      AND earlier.status IN ${UNFINISHED})`;

/**
 * A tenant's burst window, read from its stored settings (whatsapp.burst, clamped to the schema's range) or, when it
 * sets none, the platform's ($4 quiet, $5 max, in ms). `head` is the conversation's head message.
 */
const burstSetting = (name: 'quietMs' | 'maxMs', platformParameter: string, ceiling: number) => `
  (SELECT CASE WHEN jsonb_typeof(tenants.settings #> '{whatsapp,burst,${name}}') = 'number'
               THEN LEAST(GREATEST((tenants.settings #>> '{whatsapp,burst,${name}}')::double precision, 0), ${ceiling})
               ELSE ${platformParameter}::double precision END
     FROM tenants WHERE tenants.id = head.tenant_id)`;

/**
 * When a head's turn may start ($3: the queue's clock): at once without a burst window; otherwise once the
 * conversation's newest waiting message is quietMs old, or the head maxMs old, whichever comes first. A customer
 * typing three short messages in a row gets one answer to all three.
 */
const BURST_READY_AT = `
  (SELECT CASE WHEN burst_window.quiet_ms <= 0 THEN '-infinity'::timestamptz
               ELSE LEAST(head.created_at + make_interval(secs => burst_window.max_ms / 1000),
                          (SELECT max(waiting.created_at) FROM messages waiting
                            WHERE waiting.conversation_id = head.conversation_id AND waiting.seq >= head.seq
                              AND waiting.direction = 'inbound' AND waiting.status IN ('received', 'processing'))
                            + make_interval(secs => burst_window.quiet_ms / 1000)) END
     FROM (SELECT ${burstSetting('quietMs', '$4', 10_000)} AS quiet_ms, ${burstSetting('maxMs', '$5', 30_000)} AS max_ms) burst_window)`;

/**
 * Inbound claims look only at each conversation's head (its earliest unfinished message), walked with a skip scan
 * over the partial (conversation_id, seq) index, starting after the conversation this queue claimed last ($6) and
 * stopping as soon as $2 claimable heads are found. So conversations are served round-robin (each conversation
 * with work gets a turn before any gets a second), and a claim costs about as many index probes as it claims,
 * however many conversations have a backlog. (Scanning every unfinished message grew with the backlog; visiting
 * every head to order them grew with the number of busy conversations: both made a backlog feed itself.)
 * A head whose burst window is still open ($3 is the queue's clock) is passed over. The UPDATE re-checks the claim
 * condition on the locked row.
 */
const CLAIM_INBOUND_SQL = `
WITH RECURSIVE heads AS (
  (SELECT id, tenant_id, conversation_id, seq, status, direction, locked_until, created_at FROM messages
   WHERE status IN ${UNFINISHED} AND ($6::uuid IS NULL OR conversation_id > $6::uuid)
   ORDER BY conversation_id, seq LIMIT 1)
  UNION ALL
  SELECT next.id, next.tenant_id, next.conversation_id, next.seq, next.status, next.direction, next.locked_until, next.created_at
  FROM heads, LATERAL (
    SELECT id, tenant_id, conversation_id, seq, status, direction, locked_until, created_at FROM messages
    WHERE status IN ${UNFINISHED} AND conversation_id > heads.conversation_id
    ORDER BY conversation_id, seq LIMIT 1) next
)
UPDATE messages SET status = 'processing', locked_until = now() + make_interval(secs => $1),
       attempts = messages.attempts + 1, updated_at = now()
WHERE id IN (
  SELECT candidate.id FROM messages candidate
  WHERE candidate.id IN (
      SELECT id FROM heads head
      WHERE direction = 'inbound' AND status IN ('received', 'processing')
        AND (locked_until IS NULL OR locked_until < now())
        AND ${BURST_READY_AT} <= $3::timestamptz
      LIMIT $2)
  FOR UPDATE SKIP LOCKED)
  AND status IN ('received', 'processing')
  AND (locked_until IS NULL OR locked_until < now())
RETURNING id, tenant_id, conversation_id, attempts`;

/**
 * Claims the heads of the given conversations (their earliest unfinished message, when it is an inbound one that
 * nobody holds): the processor's fast path for conversations it was just told about (a webhook, a finished turn).
 * The same checks as CLAIM_INBOUND_SQL, without the walk over every conversation with work. A head whose burst
 * window is still open comes back unclaimed with the time it opens (ready_at), so the processor wakes up then.
 */
const CLAIM_CONVERSATIONS = preparedStatement(
  'parley_claim_conversations',
  `
WITH heads AS (
  SELECT DISTINCT ON (conversation_id) id, tenant_id, conversation_id, seq, direction, status, locked_until, created_at
    FROM messages
   WHERE conversation_id = ANY($2::uuid[]) AND status IN ${UNFINISHED}
   ORDER BY conversation_id, seq
), waiting AS (
  SELECT head.id, head.conversation_id, ${BURST_READY_AT} AS ready_at FROM heads head
   WHERE direction = 'inbound' AND status IN ('received', 'processing') AND (locked_until IS NULL OR locked_until < now())
), claimed AS (
  UPDATE messages SET status = 'processing', locked_until = now() + make_interval(secs => $1),
         attempts = messages.attempts + 1, updated_at = now()
  WHERE id IN (
    SELECT candidate.id FROM messages candidate
    WHERE candidate.id IN (SELECT id FROM waiting WHERE ready_at <= $3::timestamptz)
    FOR UPDATE SKIP LOCKED)
    AND status IN ('received', 'processing')
    AND (locked_until IS NULL OR locked_until < now())
  RETURNING id, tenant_id, conversation_id, attempts
)
SELECT id, tenant_id, conversation_id, attempts, NULL::timestamptz AS ready_at FROM claimed
UNION ALL
SELECT NULL, NULL, conversation_id, NULL, ready_at FROM waiting WHERE ready_at > $3::timestamptz`,
);

/**
 * Claims sends ready to go: pending or retrying outbound messages nobody holds, with no earlier unfinished message in
 * their conversation. Two statements, so that each gets the plan that suits it: a turn's claim of its own
 * conversation's sends (the hot path, after every turn) is prepared, a lookup by conversation; the sweep over every
 * conversation (once per poll interval, for sends tried before or stored at least $3 seconds ago) stays unnamed,
 * planned for the backlog at hand.
 */
const claimOutboundSql = (conversationFilter: string) => `
WITH candidates AS (
  SELECT candidate.id, candidate.status, candidate.error_code, candidate.updated_at FROM messages candidate
  WHERE candidate.status IN ('pending', 'sending')
    AND candidate.direction = 'outbound'
    AND (candidate.locked_until IS NULL OR candidate.locked_until < now())
    AND ${conversationFilter}
    AND ${NO_EARLIER_UNFINISHED}
  ORDER BY candidate.seq
  LIMIT $2
  FOR UPDATE SKIP LOCKED)
UPDATE messages SET status = 'sending', locked_until = now() + make_interval(secs => $1),
       attempts = messages.attempts + 1, updated_at = now()
FROM candidates WHERE messages.id = candidates.id
RETURNING messages.id, messages.tenant_id, messages.conversation_id, messages.attempts, messages.body,
          messages.content_sid, messages.content_variables, messages.chunk_index,
          candidates.status AS previous_status, candidates.error_code AS previous_error_code, messages.created_at,
          -- Where it goes, and whether another send of its conversation waits behind it: the sender needs no
          -- lookup of its own, and stops after a one-part reply instead of claiming again to find nothing.
          (SELECT customers.whatsapp_address FROM conversations JOIN customers ON customers.id = conversations.customer_id
            WHERE conversations.id = messages.conversation_id) AS customer_address,
          -- Why it must not go out: the customer opted out (all but the opt-out's confirmation), or a person took
          -- the conversation over after the bot wrote it.
          (SELECT CASE WHEN customers.opted_out_at IS NOT NULL AND NOT messages.confirms_opt_out THEN 'opted_out'
                       WHEN messages.author = 'bot' AND conversations.agent_replied_at > messages.created_at THEN 'agent_took_over' END
             FROM conversations JOIN customers ON customers.id = conversations.customer_id
            WHERE conversations.id = messages.conversation_id) AS blocked_reason,
          EXISTS (SELECT 1 FROM messages later
                   WHERE later.conversation_id = messages.conversation_id AND later.seq > messages.seq
                     AND later.status IN ('pending', 'sending')) AS has_next`;

// $3 = 0 takes every send (drain), even one whose transaction's clock read later than this statement's now().
const CLAIM_OUTBOUND_ANY_SQL = claimOutboundSql(
  '($3 = 0 OR candidate.attempts > 0 OR candidate.created_at <= now() - make_interval(secs => $3))',
);
const CLAIM_OUTBOUND_OF_CONVERSATION = preparedStatement(
  'parley_claim_outbound_of_conversation',
  claimOutboundSql('candidate.conversation_id = $3::uuid'),
);

// ---------------------------------------------------------------------------------------------------------------
// Settling a turn (see MessageRepository.finishTurn). Every write hangs off `finished`: when the claim is no longer
// held, nothing is inserted or updated. The parts keep their order (ORDER BY position), which is the order of their
// seq values and so of their sending; (reply_to_message_id, chunk_index) and agent_interactions.inbound_message_id
// are unique, so a turn can never store a second reply.
//
// With $26 (a lease in seconds), the reply's first part is also claimed for sending, as CLAIM_OUTBOUND_OF_CONVERSATION
// would claim it next (status 'sending', attempt 1, the lease), when that claim would find it ready and not held back:
// no unfinished message of the conversation before it but this turn's own, a customer who has not opted out, no person
// who wrote in the conversation since. The turn then sends it without a claim statement of its own (issue 18); when
// any check fails, the part stays pending and the usual claim settles it. A message stored by a transaction that has
// not committed yet is invisible to this statement as it is to the claim.
const FINISH_TURN = preparedStatement(
  'parley_finish_turn',
  `
WITH finished AS (
  UPDATE messages SET status = $3, error_message = COALESCE($4, messages.error_message), locked_until = NULL,
         processed_at = now(), updated_at = now()
   WHERE id = $1 AND attempts = $2 AND status = 'processing'
  RETURNING id, tenant_id, conversation_id, seq, created_at, raw_payload
), members AS (
  -- The rest of a burst: settled with its first message, pointing at it (whose reply answered them all).
  UPDATE messages SET status = $3, burst_head_id = finished.id, locked_until = NULL, processed_at = now(), updated_at = now()
    FROM finished
   WHERE messages.id = ANY($23::uuid[]) AND messages.conversation_id = finished.conversation_id
     AND messages.direction = 'inbound' AND messages.status = 'received'
  RETURNING messages.id, messages.created_at
), sendable AS MATERIALIZED (
  -- Materialized: evaluated once, whatever the parts' CASEs below make of it (inlined, it ran three times).
  SELECT finished.conversation_id FROM finished
   WHERE $26::int IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM messages earlier
                      WHERE earlier.conversation_id = finished.conversation_id AND earlier.status IN ${UNFINISHED}
                        AND earlier.id <> finished.id AND earlier.id NOT IN (SELECT members.id FROM members))
     AND NOT EXISTS (SELECT 1 FROM conversations JOIN customers ON customers.id = conversations.customer_id
                      WHERE conversations.id = finished.conversation_id
                        AND (customers.opted_out_at IS NOT NULL OR conversations.agent_replied_at >= now()))
), parts AS (
  INSERT INTO messages (tenant_id, conversation_id, direction, author, body, content_sid, content_variables, choices,
                        status, attempts, locked_until, reply_to_message_id, chunk_index, confirms_opt_out)
  SELECT finished.tenant_id, finished.conversation_id, 'outbound', 'bot', part.body, part.content_sid,
         part.content_variables, part.choices, CASE WHEN first_part.conversation_id IS NULL THEN 'pending' ELSE 'sending' END,
         CASE WHEN first_part.conversation_id IS NULL THEN 0 ELSE 1 END,
         CASE WHEN first_part.conversation_id IS NOT NULL THEN now() + make_interval(secs => $26::int) END, finished.id,
         part.position - 1, $27::boolean
    FROM finished, unnest($5::text[], $6::text[], $7::jsonb[], $8::jsonb[])
         WITH ORDINALITY AS part(body, content_sid, content_variables, choices, position)
         LEFT JOIN sendable first_part ON part.position = 1
   ORDER BY part.position
  RETURNING id, tenant_id, conversation_id, status, attempts, body, content_sid, content_variables, chunk_index, created_at
), interaction AS (
  INSERT INTO agent_interactions (id, tenant_id, conversation_id, inbound_message_id, reply_message_id, provider, model,
                                  input_tokens, cached_input_tokens, output_tokens, total_tokens, latency_ms,
                                  finish_reason, knowledge_ids, routing, message_kind, routing_tier, routing_propensity,
                                  chunk_ids)
  SELECT $9::uuid, finished.tenant_id, finished.conversation_id, finished.id,
         (SELECT parts.id FROM parts WHERE parts.chunk_index = 0), $10, $11, $12, $13, $14, $15, $16, $17, $18::jsonb,
         $19::jsonb, $20, $21, $22::numeric, $24::jsonb
    FROM finished WHERE $9::uuid IS NOT NULL
  RETURNING id
), conversation AS (
  UPDATE conversations SET last_message_at = greatest(conversations.last_message_at, finished.created_at,
                                                       (SELECT max(members.created_at) FROM members)), updated_at = now()
    FROM finished WHERE conversations.id = finished.conversation_id
  RETURNING conversations.customer_id
), customer AS (
  UPDATE customers SET profile_name = COALESCE(finished.raw_payload->>'ProfileName', customers.profile_name),
         wa_id = COALESCE(finished.raw_payload->>'WaId', customers.wa_id), updated_at = now()
    FROM finished, conversation
   WHERE customers.id = conversation.customer_id
     AND (customers.profile_name IS DISTINCT FROM COALESCE(finished.raw_payload->>'ProfileName', customers.profile_name)
          OR customers.wa_id IS DISTINCT FROM COALESCE(finished.raw_payload->>'WaId', customers.wa_id))
  RETURNING customers.id
), ${continuationCtes(
    {
      conversationId: '(SELECT finished.conversation_id FROM finished)',
      tenantId: '(SELECT finished.tenant_id FROM finished)',
      seq: '(SELECT finished.seq FROM finished)',
      createdAt: '(SELECT finished.created_at FROM finished)',
    },
    '$25::int',
  )}
SELECT (SELECT count(*) FROM finished)::int AS held, (SELECT count(*) FROM parts)::int AS parts,
       (SELECT count(*) FROM members)::int AS members, (SELECT count(*) FROM interaction)::int AS interactions,
       (SELECT count(*) FROM customer)::int AS customers, (SELECT count(*) FROM continued)::int AS continued,
       -- The first part when it was claimed for sending, as the sender's claim returns it.
       (SELECT json_build_object('id', parts.id, 'tenant_id', parts.tenant_id, 'conversation_id', parts.conversation_id,
                                 'attempts', parts.attempts, 'body', parts.body, 'content_sid', parts.content_sid,
                                 'content_variables', parts.content_variables, 'chunk_index', parts.chunk_index,
                                 'created_at', parts.created_at, 'previous_status', 'pending', 'previous_error_code', NULL,
                                 'customer_address', (SELECT customers.whatsapp_address FROM conversations
                                                        JOIN customers ON customers.id = conversations.customer_id
                                                       WHERE conversations.id = parts.conversation_id),
                                 'blocked_reason', NULL,
                                 'has_next', (SELECT count(*) FROM parts) > 1)
          FROM parts WHERE parts.status = 'sending') AS sending`,
);

/**
 * A burst's later messages: the conversation's inbound messages after the head ($seq) still waiting for a turn, in
 * order, at most $limit, up to the first button click (a click is a turn of its own). The arguments are SQL
 * expressions for the head's conversation and seq and for the limit.
 */
const burstMembersSql = (conversationId: string, seq: string, limit: string) => `
SELECT waiting.id, waiting.seq::text AS seq, waiting.tenant_id, waiting.conversation_id, waiting.direction, waiting.author,
       waiting.message_sid, waiting.body, waiting.media, waiting.message_type, waiting.button_payload, waiting.button_text,
       waiting.replied_to_sid, waiting.status, waiting.attempts, waiting.created_at
  FROM messages waiting
 WHERE waiting.conversation_id = ${conversationId} AND waiting.seq > ${seq} AND waiting.direction = 'inbound'
   AND waiting.status = 'received'
   AND NOT EXISTS (SELECT 1 FROM messages click WHERE click.conversation_id = ${conversationId} AND click.seq > ${seq}
                     AND click.seq <= waiting.seq AND click.direction = 'inbound' AND click.button_payload IS NOT NULL)
 ORDER BY waiting.seq LIMIT ${limit}`;

/**
 * The conversation as the customer saw it before a message (MessageRepository.recentHistory), newest first by
 * (placed_seq, outbound, seq): a reply is placed right after the message it answers, or after the last message of
 * the burst it answered; inbound messages after the given one are left out, as are messages never delivered. The
 * arguments are SQL expressions for the message's conversation, id and seq and for the limit.
 */
const recentHistorySql = (conversationId: string, id: string, seq: string, limit: string) => `
SELECT shown.direction, shown.body, shown.media, shown.seq,
       COALESCE(answered.seq, head.seq, shown.seq) AS placed_seq, shown.direction = 'outbound' AS outbound
  FROM messages shown
  LEFT JOIN messages answered ON answered.id = shown.reply_to_message_id
  LEFT JOIN messages head ON head.id = shown.burst_head_id
 WHERE shown.conversation_id = ${conversationId} AND shown.id <> ${id}
   -- A photo without a caption has no body but is part of the conversation (its media descriptor describes it).
   AND (shown.body <> '' OR shown.media <> '[]'::jsonb)
   AND shown.status NOT IN ${NEVER_DELIVERED}
   AND NOT (shown.direction = 'inbound' AND shown.seq > ${seq})
 ORDER BY placed_seq DESC, outbound DESC, shown.seq DESC
 LIMIT ${limit}`;

/**
 * A claimed inbound message with everything its turn reads, in one statement (three were: the profile of issue 18
 * counts statements, each one a round trip and a wake-up of a PostgreSQL backend): its conversation, its customer's
 * opt-out, the choices last offered to it, the burst members answered with it (at most $2; none when the message is
 * a button click), and the conversation's history before it (at most $3 messages, newest first).
 */
const LOAD_TURN = preparedStatement(
  'parley_load_turn',
  `SELECT message.id, message.seq, message.tenant_id, message.conversation_id, message.direction, message.author,
        message.message_sid, message.body, message.media, message.message_type, message.button_payload,
        message.button_text, message.replied_to_sid, message.status, message.attempts, message.created_at,
        conversation.status AS conversation_status, conversation.customer_id, conversation.last_message_at,
        conversation.routing_escalation, conversation.routing_escalated_at, conversation.flagged_reason,
        conversation.flagged_at, conversation.created_at AS conversation_created_at,
        conversation.handoff_reason, conversation.handoff_at, conversation.agent_replied_at,
        (SELECT customers.opted_out_at FROM customers WHERE customers.id = conversation.customer_id) AS customer_opted_out_at,
        -- What lastOfferedChoices reads, loaded here: a typed "1" or "👍" can answer those options.
        (SELECT offered.choices FROM messages offered
          WHERE offered.conversation_id = message.conversation_id AND offered.direction = 'outbound' AND offered.seq < message.seq
          ORDER BY offered.seq DESC LIMIT 1) AS last_offered_choices,
        (SELECT COALESCE(json_agg(member ORDER BY member.seq::bigint), '[]'::json)
           FROM (${burstMembersSql('message.conversation_id', 'message.seq', '$2')}) member
          WHERE message.button_payload IS NULL) AS burst_members,
        (SELECT COALESCE(json_agg(json_build_object('direction', earlier.direction, 'body', earlier.body, 'media', earlier.media)
                                  ORDER BY earlier.placed_seq DESC, earlier.outbound DESC, earlier.seq DESC), '[]'::json)
           FROM (${recentHistorySql('message.conversation_id', 'message.id', 'message.seq', '$3')}) earlier) AS history
   FROM messages message JOIN conversations conversation ON conversation.id = message.conversation_id
  WHERE message.id = $1`,
);

/** The conversation as the customer saw it before a message, for a caller without a loaded turn (recentHistory). */
const RECENT_HISTORY = preparedStatement(
  'parley_recent_history',
  `SELECT earlier.direction, earlier.body, earlier.media FROM (${recentHistorySql('$1', '$2', '$3', '$4')}) earlier
    ORDER BY earlier.placed_seq DESC, earlier.outbound DESC, earlier.seq DESC`,
);

/**
 * Sends the provider accepted, each recorded if its claim is still held (MessageRepository.markSent): one statement
 * for the sends marked in one turn of the event loop (db/write-batcher.ts).
 */
const MARK_SENT = preparedStatement(
  'parley_mark_sent',
  `UPDATE messages SET status = sent.status, message_sid = sent.sid, locked_until = NULL, error_code = NULL,
          error_message = NULL, processed_at = now(), updated_at = now()
     FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[]) AS sent(id, attempts, status, sid)
    WHERE messages.id = sent.id AND messages.attempts = sent.attempts AND messages.status = 'sending'`,
);

/** The answer a turn stores with its reply (an agent_interactions row). */
export interface InteractionRecord {
  id: string;
  provider: string;
  model: string;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  totalTokens: number;
  latencyMs: number;
  finishReason: string;
  knowledgeIds: string[];
  /** Document passages (knowledge_chunks ids) the answer was grounded on. */
  chunkIds?: string[];
  routing: Record<string, unknown> | null;
  messageKind: string | null;
  routingTier: string | null;
  routingPropensity: string | null;
}

/**
 * What a turn settles: a reply (its parts, and the answer when a model gave one), or nothing due (skipped); with
 * either, `continuation` when the message continues the conversation's previous answer (an implicit feedback signal,
 * counted when it came within `windowSeconds` of that answer's reply).
 */
export type TurnRecord = (
  | {
      kind: 'reply';
      parts: readonly OutboundPartRow[];
      answer?: InteractionRecord;
      /** The reply confirms the opt-out stored in the same transaction: it is sent although the customer opted out. */
      confirmsOptOut?: boolean;
    }
  | { kind: 'skip'; reason: string }
) & { continuation?: { windowSeconds: number } };

/** A settled turn: its reply's first part, when the settling statement claimed it for sending. */
export interface FinishedTurn {
  sending: ClaimedOutbound | null;
}

/** Which sends a claim looks at: one conversation's, or every conversation's stored at least so many seconds ago. */
export type OutboundScope = { conversationId: string } | { storedSecondsAgo: number };

/** A message a worker holds under a lease. */
export interface ClaimedInbound {
  id: string;
  tenantId: string;
  conversationId: string;
  /** Which claim this is; finishing checks it, so a worker whose lease expired cannot finish another's claim. */
  attempts: number;
}

/** An outbound message claimed for sending, with what the sender needs to send it. */
export interface ClaimedOutbound extends ClaimedInbound {
  /** 'sending' when an earlier attempt's lease expired mid-send: it may have reached the provider. */
  previousStatus: MessageStatus;
  /** The error code the earlier attempt left (send_uncertain: it timed out, it may have reached the provider). */
  previousErrorCode: string | null;
  /** When the message was stored: no attempt can have sent it before then (the look-back after a crash starts here). */
  createdAt: Date;
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  chunkIndex: number;
  /** The customer's whatsapp: address; null when the conversation is gone. */
  customerAddress: string | null;
  /** Another send of the same conversation waits behind this one. */
  hasNext: boolean;
  /** Why it must not be sent: the customer opted out, or a person took the conversation over after the bot wrote it. */
  blockedReason: 'opted_out' | 'agent_took_over' | null;
}

/** The columns of one inbound message as the webhook accepts it; media and raw payload are JSON text. */
export interface InboundRow {
  tenantId: string;
  /** The customer's whatsapp: address (Twilio's From). */
  address: string;
  waId: string | null;
  profileName: string | null;
  sid: string;
  body: string;
  media: string;
  messageType: string | null;
  buttonPayload: string | null;
  buttonText: string | null;
  repliedToSid: string | null;
  rawPayload: string;
}

/** A message the accept statement inserted. */
export interface InsertedInbound {
  id: string;
  conversation_id: string;
  message_sid: string;
}

/** One part of a reply to store as a pending outbound message. */
export interface OutboundPartRow {
  body: string;
  contentSid?: string | null;
  contentVariables?: Record<string, string> | null;
  choices?: OfferedChoice[] | null;
}

/** A message as the conversation API and the simulator show it. */
export interface ThreadMessage {
  id: string;
  direction: string;
  author: string;
  author_user_id: string | null;
  body: string;
  /** The body is a voice note's transcript. */
  transcribed: boolean;
  /** The media descriptors and their outcomes, without URLs. */
  media: Array<Omit<MediaItem, 'url'>>;
  status: MessageStatus;
  /** Why it was not delivered or not sent (a Twilio code such as 63016, or opted_out / agent_took_over). */
  error_code: string | null;
  created_at: Date;
}

/** A claimed turn's message, its conversation, and what the turn's handlers need to know with them. */
export interface LoadedTurn {
  inbound: Message;
  conversation: Conversation;
  customerOptedOut: boolean;
  /** The choices of the latest outbound message before this one (what lastOfferedChoices returns). */
  lastOfferedChoices: OfferedChoice[] | null;
  /**
   * The conversation's later inbound messages waiting for a turn, in order, up to the first button click (none when
   * this message is a click): what a burst window answers with it (their text and media join its own for the agent,
   * and finishTurn settles them with it).
   */
  burstMembers: Message[];
  /** The conversation as the customer saw it before this message, newest first (see recentHistory). */
  history: HistoryMessage[];
}

/** A message of a conversation's history, as the agent reads it. */
export interface HistoryMessage {
  direction: string;
  body: string;
  media: MediaItem[];
}

/**
 * A message of a loaded turn, from LOAD_TURN's columns (the turn's own message) or its JSON (a burst member, whose
 * timestamps arrive as text). Neither belongs to a burst head yet: finishTurn settles that.
 */
function turnMessageFrom(row: Row): Message {
  return Object.assign(new Message(), {
    id: row.id as string,
    seq: String(row.seq),
    tenantId: row.tenant_id as string,
    conversationId: row.conversation_id as string,
    direction: row.direction as Message['direction'],
    author: row.author as Message['author'],
    authorUserId: null,
    messageSid: (row.message_sid as string | null) ?? null,
    body: row.body as string,
    media: (row.media as Message['media']) ?? [],
    messageType: (row.message_type as string | null) ?? null,
    buttonPayload: (row.button_payload as string | null) ?? null,
    buttonText: (row.button_text as string | null) ?? null,
    repliedToSid: (row.replied_to_sid as string | null) ?? null,
    status: row.status as MessageStatus,
    attempts: Number(row.attempts),
    burstHeadId: null,
    createdAt: new Date(row.created_at as string),
  });
}

/** A bot or agent message delivered to a simulated customer. */
export interface SimulatedReplyRow {
  seq: string;
  body: string;
  content_sid: string | null;
  content_variables: Record<string, string> | null;
  choices: OfferedChoice[] | null;
  author: string;
  status: MessageStatus;
}

type Row = Record<string, unknown>;

const toClaim = (row: Row): ClaimedInbound => ({
  id: row.id as string,
  tenantId: row.tenant_id as string,
  conversationId: row.conversation_id as string,
  attempts: Number(row.attempts),
});

/** TypeORM's postgres driver answers UPDATE ... RETURNING as [rows, affected]. */
const updatedRows = <T>(result: unknown): T[] => (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
const affectedCount = (result: unknown): number => Number((result as [unknown, number])[1] ?? 0);

/** A claim of an outbound message from its row (CLAIM_OUTBOUND_OF_CONVERSATION's columns, or FINISH_TURN's JSON). */
function toClaimedOutbound(row: Row): ClaimedOutbound {
  return {
    ...toClaim(row),
    previousStatus: row.previous_status as MessageStatus,
    previousErrorCode: (row.previous_error_code as string | null) ?? null,
    createdAt: new Date(row.created_at as string | Date),
    body: row.body as string,
    contentSid: (row.content_sid as string | null) ?? null,
    contentVariables: (row.content_variables as Record<string, string> | null) ?? null,
    chunkIndex: Number(row.chunk_index),
    customerAddress: (row.customer_address as string | null) ?? null,
    blockedReason: (row.blocked_reason as ClaimedOutbound['blockedReason']) ?? null,
    hasNext: row.has_next === true,
  };
}

/** Reads and writes `messages`. */
export class MessageRepository {
  private readonly manager: EntityManager;

  private readonly sentMarks = new WriteBatcher<{ id: string; attempts: number; status: OutboundStatus; sid: string }>(async (marks) => {
    await queryPrepared(this.manager, MARK_SENT, [
      marks.map((mark) => mark.id),
      marks.map((mark) => mark.attempts),
      marks.map((mark) => mark.status),
      marks.map((mark) => mark.sid),
    ]);
  });

  constructor(private readonly dataSource: DataSource) {
    this.manager = dataSource.manager;
  }

  // ----- accept -----

  /** Inserts a batch, finding or creating each sender's customer and conversation in the same statement. */
  insertInboundFindingConversations(rows: readonly InboundRow[]): Promise<InsertedInbound[]> {
    const column = <T>(read: (row: InboundRow) => T) => rows.map(read);
    return queryDirect<InsertedInbound>(this.dataSource, ACCEPT_BATCH_SQL, [
      column((row) => row.tenantId),
      column((row) => row.address),
      column((row) => row.waId),
      column((row) => row.profileName),
      ...messageColumns(rows),
    ]);
  }

  /** Inserts a batch whose senders' conversations are known (one id per row); fails with 23503 when one is gone. */
  insertInboundForKnownConversations(rows: readonly InboundRow[], conversationIds: readonly string[]): Promise<InsertedInbound[]> {
    return queryPrepared<InsertedInbound>(this.manager, ACCEPT_KNOWN, [
      rows.map((row) => row.tenantId),
      conversationIds,
      ...messageColumns(rows),
    ]);
  }

  /** The stored messages carrying these Twilio SIDs, with their tenant. */
  findBySids(sids: readonly string[]): Promise<Array<{ id: string; conversation_id: string; tenant_id: string; message_sid: string }>> {
    return queryDirect(this.dataSource, FIND_BY_SIDS_SQL, [sids]);
  }

  // ----- the work queue -----

  /**
   * Claims up to `limit` inbound messages, one per conversation, walking conversations after `afterConversationId`;
   * a conversation whose burst window is open at `now` is passed over.
   */
  async claimInbound(
    leaseSeconds: number,
    limit: number,
    afterConversationId: string | null,
    now: Date,
    burst: BurstWindow,
  ): Promise<ClaimedInbound[]> {
    return updatedRows<Row>(
      await this.manager.query(CLAIM_INBOUND_SQL, [leaseSeconds, limit, now, burst.quietMs, burst.maxMs, afterConversationId]),
    ).map(toClaim);
  }

  /**
   * Claims the head of each of these conversations that is an inbound message ready for a turn; the conversations
   * whose burst window is still open at `now` come back as `waiting`, with when it closes.
   */
  async claimConversations(
    leaseSeconds: number,
    conversationIds: readonly string[],
    now: Date,
    burst: BurstWindow,
  ): Promise<{ claims: ClaimedInbound[]; waiting: Array<{ conversationId: string; readyAt: Date }> }> {
    if (conversationIds.length === 0) return { claims: [], waiting: [] };
    const rows = await queryPrepared<Row>(this.manager, CLAIM_CONVERSATIONS, [
      leaseSeconds,
      conversationIds,
      now,
      burst.quietMs,
      burst.maxMs,
    ]);
    return {
      claims: rows.filter((row) => row.id !== null).map(toClaim),
      waiting: rows
        .filter((row) => row.id === null)
        .map((row) => ({ conversationId: row.conversation_id as string, readyAt: new Date(row.ready_at as string | Date) })),
    };
  }

  /** Claims up to `limit` outbound messages ready to send, of one conversation or of any (OutboundScope). */
  async claimOutbound(leaseSeconds: number, limit: number, scope: OutboundScope): Promise<ClaimedOutbound[]> {
    const rows =
      'conversationId' in scope
        ? await queryPrepared<Row>(this.manager, CLAIM_OUTBOUND_OF_CONVERSATION, [leaseSeconds, limit, scope.conversationId])
        : updatedRows<Row>(await this.manager.query(CLAIM_OUTBOUND_ANY_SQL, [leaseSeconds, limit, scope.storedSecondsAgo]));
    return rows.map(toClaimedOutbound);
  }

  /** Extends the lease of a claim still held; false when it was lost. */
  async renewLease(claim: ClaimedInbound, leaseSeconds: number): Promise<boolean> {
    const result = await this.manager.query(
      `UPDATE messages SET locked_until = now() + make_interval(secs => $3)
       WHERE id = $1 AND attempts = $2 AND status IN ${CLAIMED}`,
      [claim.id, claim.attempts, leaseSeconds],
    );
    return affectedCount(result) > 0;
  }

  /** Puts a claim back (inbound to received, outbound to pending), claimable again after `delaySeconds`. */
  async releaseForRetry(claim: ClaimedInbound, delaySeconds: number, error: string, errorCode: string | null): Promise<void> {
    await this.manager.query(
      `UPDATE messages SET status = CASE direction WHEN 'inbound' THEN 'received' ELSE 'pending' END,
              locked_until = now() + make_interval(secs => $3), error_message = $4, error_code = $5, updated_at = now()
       WHERE id = $1 AND attempts = $2 AND status IN ${CLAIMED}`,
      [claim.id, claim.attempts, delaySeconds, error.slice(0, 1000), errorCode],
    );
  }

  /** Marks a claim failed for good. */
  async failClaim(claim: ClaimedInbound, error: string, errorCode: string | null): Promise<void> {
    await this.manager.query(
      `UPDATE messages SET status = 'failed', locked_until = NULL, error_message = $3, error_code = $4,
              processed_at = now(), updated_at = now()
       WHERE id = $1 AND attempts = $2 AND status IN ${CLAIMED}`,
      [claim.id, claim.attempts, error.slice(0, 1000), errorCode],
    );
  }

  /** How many messages wait for work (inbound to answer, outbound to send). */
  async countUnfinished(): Promise<number> {
    const rows: Array<{ count: string }> = await this.manager.query(`SELECT count(*) AS count FROM messages WHERE status IN ${UNFINISHED}`);
    return Number(rows[0]?.count ?? 0);
  }

  // ----- a turn -----

  /** The stored message; throws when it does not exist. */
  findById(id: string, manager: EntityManager = this.manager): Promise<Message> {
    return manager.findOneByOrFail(Message, { id });
  }

  /**
   * A claimed inbound message with its conversation and what its turn reads, in one statement; null when either is
   * gone. `burstLimit`: the later messages that may be answered with it (a burst) to load, at most; `historyLimit`:
   * the earlier messages of the conversation to load, at most (the agent's history).
   */
  async loadTurn(claim: ClaimedInbound, limits: { burstLimit: number; historyLimit: number }): Promise<LoadedTurn | null> {
    const rows = await queryPrepared<Row>(this.manager, LOAD_TURN, [claim.id, limits.burstLimit, limits.historyLimit]);
    const row = rows[0];
    if (!row) return null;
    const inbound = turnMessageFrom(row);
    const conversation = Object.assign(new Conversation(), {
      id: row.conversation_id as string,
      tenantId: row.tenant_id as string,
      customerId: row.customer_id as string,
      status: row.conversation_status as Conversation['status'],
      lastMessageAt: new Date(row.last_message_at as string),
      routingEscalation: Number(row.routing_escalation),
      routingEscalatedAt: row.routing_escalated_at ? new Date(row.routing_escalated_at as string) : null,
      flaggedReason: (row.flagged_reason as string | null) ?? null,
      flaggedAt: row.flagged_at ? new Date(row.flagged_at as string) : null,
      createdAt: new Date(row.conversation_created_at as string),
      handoffReason: (row.handoff_reason as Conversation['handoffReason']) ?? null,
      handoffAt: row.handoff_at ? new Date(row.handoff_at as string) : null,
      agentRepliedAt: row.agent_replied_at ? new Date(row.agent_replied_at as string) : null,
    });
    return {
      inbound,
      conversation,
      customerOptedOut: row.customer_opted_out_at !== null && row.customer_opted_out_at !== undefined,
      lastOfferedChoices: (row.last_offered_choices as OfferedChoice[] | null) ?? null,
      burstMembers: (row.burst_members as Row[]).map(turnMessageFrom),
      history: row.history as HistoryMessage[],
    };
  }

  /**
   * Settles a turn in one statement (atomic by itself, so no transaction is needed): the claimed inbound message
   * becomes `replied` (or `skipped`, with the reason) if the claim is still held; the reply's parts are stored as
   * pending outbound messages in order; the answer, when the model gave one, is stored as its agent_interactions row;
   * and what the acknowledgement path leaves out is written: the conversation's activity time, and the customer's
   * profile name and WhatsApp id when they changed. The rest of a burst (`burstMemberIds`) is settled with it, and the
   * previous answer marked continued when the outcome says the message continues it. The other tables' SQL is
   * composed here from their own repositories where it has a home (the continuation's), because one statement
   * instead of eight is most of a turn's database work (issue 18's profile).
   * Returns null, having written nothing, when the claim was lost (its lease expired and another worker took it); else
   * the reply's first part when it was claimed for sending (with `sendLeaseSeconds`).
   */
  async finishTurn(
    claim: ClaimedInbound,
    outcome: TurnRecord,
    manager: EntityManager = this.manager,
    burstMemberIds: readonly string[] = [],
    /** Claim the reply's first part for sending with this lease, when it can go at once (see FINISH_TURN). */
    sendLeaseSeconds: number | null = null,
  ): Promise<FinishedTurn | null> {
    const parts = outcome.kind === 'reply' ? outcome.parts : [];
    const answer = outcome.kind === 'reply' ? outcome.answer : undefined;
    const rows = await queryPrepared<{ held: number; sending: Row | null }>(manager, FINISH_TURN, [
      claim.id,
      claim.attempts,
      outcome.kind === 'reply' ? 'replied' : 'skipped',
      outcome.kind === 'skip' ? outcome.reason.slice(0, 1000) : null,
      parts.map((part) => part.body),
      parts.map((part) => part.contentSid ?? null),
      parts.map((part) => (part.contentVariables ? JSON.stringify(part.contentVariables) : null)),
      parts.map((part) => (part.choices && part.choices.length > 0 ? JSON.stringify(part.choices) : null)),
      answer?.id ?? null,
      answer?.provider ?? null,
      answer?.model ?? null,
      answer?.inputTokens ?? 0,
      answer?.cachedInputTokens ?? 0,
      answer?.outputTokens ?? 0,
      answer?.totalTokens ?? 0,
      answer?.latencyMs ?? 0,
      answer?.finishReason ?? null,
      JSON.stringify(answer?.knowledgeIds ?? []),
      answer?.routing === undefined || answer.routing === null ? null : JSON.stringify(answer.routing),
      answer?.messageKind ?? null,
      answer?.routingTier ?? null,
      answer?.routingPropensity ?? null,
      burstMemberIds,
      JSON.stringify(answer?.chunkIds ?? []),
      outcome.continuation?.windowSeconds ?? null,
      sendLeaseSeconds,
      outcome.kind === 'reply' && outcome.confirmsOptOut === true,
    ]);
    const row = rows[0];
    if (!row || Number(row.held) === 0) return null;
    return { sending: row.sending ? toClaimedOutbound(row.sending) : null };
  }

  /**
   * The conversation as the customer saw it before `inbound`, newest first. A reply is placed right after the
   * message it answers, or after the last message of the burst it answered (replies are stored after later inbound
   * messages have already arrived), and inbound messages that arrived after `inbound` are left out, as are messages
   * the customer never got. A turn gets the same with its message (loadTurn); this is for callers without one.
   */
  recentHistory(inbound: Pick<Message, 'id' | 'conversationId' | 'seq'>, limit: number): Promise<HistoryMessage[]> {
    return queryPrepared(this.manager, RECENT_HISTORY, [inbound.conversationId, inbound.id, inbound.seq, limit]);
  }

  /** Up to `limit` delivered messages of a conversation before `seq`, newest first (a correction's context). */
  contextBefore(conversationId: string, seq: string, limit: number): Promise<Array<{ direction: string; body: string }>> {
    return this.manager.query(
      `SELECT direction, body FROM messages
       WHERE conversation_id = $1 AND seq < $2 AND body <> '' AND status NOT IN ${NEVER_DELIVERED}
       ORDER BY seq DESC LIMIT $3`,
      [conversationId, seq, limit],
    );
  }

  /** The choices of the latest outbound message before `seq`, if it offered any. */
  async lastOfferedChoices(conversationId: string, seq: string): Promise<OfferedChoice[] | null> {
    const rows: Array<{ choices: OfferedChoice[] | null }> = await this.manager.query(
      `SELECT choices FROM messages WHERE conversation_id = $1 AND direction = 'outbound' AND seq < $2
       ORDER BY seq DESC LIMIT 1`,
      [conversationId, seq],
    );
    return rows[0]?.choices ?? null;
  }

  // ----- sending -----

  /** Which of these provider SIDs another message already owns. */
  async sidsOwnedByOthers(sids: readonly string[], exceptMessageId: string): Promise<Set<string>> {
    const rows: Array<{ message_sid: string }> = await this.manager.query(
      'SELECT message_sid FROM messages WHERE message_sid = ANY($1) AND id <> $2',
      [sids, exceptMessageId],
    );
    return new Set(rows.map((row) => row.message_sid));
  }

  /** Records a send the provider accepted, if the claim is still held (with the others marked at the same moment). */
  markSent(claim: ClaimedInbound, status: OutboundStatus, sid: string): Promise<void> {
    return this.sentMarks.write({ id: claim.id, attempts: claim.attempts, status, sid });
  }

  /** The choices a stored message offered. */
  async choicesOf(id: string): Promise<OfferedChoice[]> {
    const rows: Array<{ choices: OfferedChoice[] | null }> = await this.manager.query('SELECT choices FROM messages WHERE id = $1', [id]);
    return rows[0]?.choices ?? [];
  }

  /** Turns a claimed rich message back into a pending plain-text one, remembering why. */
  async requeueAsText(claim: ClaimedInbound, body: string, errorCode: string | null, errorMessage: string): Promise<void> {
    await this.manager.query(
      `UPDATE messages SET content_sid = NULL, content_variables = NULL, body = $3, status = 'pending', locked_until = NULL,
              error_code = $4, error_message = $5, updated_at = now()
       WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
      [claim.id, claim.attempts, body, errorCode, errorMessage.slice(0, 1000)],
    );
  }

  /** Stores an agent's message to the customer as pending outbound, recorded as from that user. */
  insertAgentMessage(input: {
    tenantId: string;
    conversationId: string;
    userId: string;
    body: string;
    /** Outside WhatsApp's 24-hour window: the approved template it goes through (the body is kept for people). */
    contentSid?: string;
    contentVariables?: Record<string, string>;
  }): Promise<Message> {
    return this.manager.save(
      this.manager.create(Message, {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        direction: 'outbound',
        author: 'agent',
        authorUserId: input.userId,
        body: input.body,
        contentSid: input.contentSid ?? null,
        contentVariables: input.contentVariables ?? null,
        status: 'pending',
      }),
    );
  }

  // ----- status callbacks -----

  /** Records Twilio's SID on an outbound message of the tenant that has none yet (the callback raced the send's response). */
  async attachSid(messageId: string, tenantId: string, sid: string): Promise<void> {
    await this.manager.query(
      `UPDATE messages SET message_sid = $3 WHERE id = $1 AND tenant_id = $2 AND direction = 'outbound' AND message_sid IS NULL
         AND NOT EXISTS (SELECT 1 FROM messages other WHERE other.message_sid = $3)`,
      [messageId, tenantId, sid],
    );
  }

  /** Moves an outbound message of the tenant forward to `status`; callbacks arrive out of order, so never backwards. */
  async advanceDeliveryStatus(sid: string, tenantId: string, status: OutboundStatus, errorCode: string | null): Promise<void> {
    const rank = `(CASE status ${Object.entries(DELIVERY_RANK)
      .map(([name, value]) => `WHEN '${name}' THEN ${value}`)
      .join(' ')} ELSE ${DELIVERY_RANK.failed} END)`;
    await this.manager.query(
      `UPDATE messages SET status = $3, error_code = COALESCE($4, error_code), updated_at = now()
       WHERE message_sid = $1 AND tenant_id = $2 AND direction = 'outbound' AND ${rank} < $5`,
      [sid, tenantId, status, errorCode, DELIVERY_RANK[status]],
    );
  }

  /**
   * Stores what the media-understanding step made of an inbound message's media, before the agent runs: the new
   * body (a voice note's transcript), whether it is transcribed, and the descriptors with their outcomes.
   */
  async recordMediaUnderstanding(
    id: string,
    understood: { body: string; transcribed: boolean; media: Message['media'] },
    manager: EntityManager = this.manager,
  ): Promise<void> {
    await manager.query(
      `UPDATE messages SET body = $2, transcribed = transcribed OR $3, media = $4::jsonb, updated_at = now()
       WHERE id = $1 AND direction = 'inbound'`,
      [id, understood.body, understood.transcribed, JSON.stringify(understood.media)],
    );
  }

  // ----- reads for people -----

  /** The latest `limit` messages of a conversation of the tenant, oldest first. */
  async thread(conversationId: string, tenantId: string, limit: number): Promise<ThreadMessage[]> {
    const rows: ThreadMessage[] = await this.manager.query(
      // The media descriptors without their URLs (Twilio's paths name the account); the bytes are never stored.
      `SELECT id, direction, author, author_user_id, body, transcribed,
              (SELECT COALESCE(jsonb_agg(item - 'url'), '[]'::jsonb) FROM jsonb_array_elements(media) item) AS media,
              status, error_code, created_at FROM messages
       WHERE conversation_id = $1 AND tenant_id = $2 ORDER BY seq DESC LIMIT $3`,
      [conversationId, tenantId, limit],
    );
    return rows.reverse();
  }

  /** Outbound messages to a customer of the tenant after `afterSeq` that have left Parley (the simulated chat reads them). */
  simulatedReplies(tenantId: string, customerAddress: string, afterSeq: number, limit: number): Promise<SimulatedReplyRow[]> {
    return this.manager.query(
      `SELECT messages.seq, messages.body, messages.content_sid, messages.content_variables, messages.choices, messages.author, messages.status
       FROM messages
       JOIN conversations ON conversations.id = messages.conversation_id
       JOIN customers ON customers.id = conversations.customer_id
       WHERE messages.tenant_id = $1 AND customers.whatsapp_address = $2 AND messages.direction = 'outbound'
         AND messages.seq > $3 AND messages.status NOT IN ('pending', 'sending')
       ORDER BY messages.seq LIMIT $4`,
      [tenantId, customerAddress, afterSeq, limit],
    );
  }
}

/** The message's own columns, in the order both accept statements take them. */
function messageColumns(rows: readonly InboundRow[]): unknown[][] {
  const column = <T>(read: (row: InboundRow) => T) => rows.map(read);
  return [
    column((row) => row.sid),
    column((row) => row.body),
    column((row) => row.media),
    column((row) => row.messageType),
    column((row) => row.buttonPayload),
    column((row) => row.buttonText),
    column((row) => row.repliedToSid),
    column((row) => row.rawPayload),
  ];
}

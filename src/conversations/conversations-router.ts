/**
 * Conversations for human agents: list (filter by status, e.g. handoff), read one thread, write to the customer
 * and hand the conversation back to the bot. Always scoped to the key's tenant.
 */
import { Router } from 'express';
import { z } from 'zod';
import { CONVERSATION_STATUSES } from '../db/entities/conversation';
import type { ConversationSummary } from '../db/repositories/conversation-repository';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { safeText } from '../http/safe-text';
import { parseRequest } from '../http/validate';
import type { PassageSource } from '../knowledge/passage-sources';
import { type ConversationService, explainErrorCode, presentMessage } from './conversation-service';

const listQuerySchema = z.object({
  status: z.enum(CONVERSATION_STATUSES).optional(),
  flagged: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('true: only conversations flagged for a person (e.g. a voice note the bot could not understand)'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const idParamsSchema = z.object({ id: z.uuid() });

const agentMessageSchema = z.object({ body: safeText().trim().min(1).max(1600) });

const PREFIX = '/v1/bot/conversations';
const SCOPE = 'conversations:manage';
const tags = ['conversations'];

registerRoute({
  method: 'get',
  path: `${PREFIX}/`,
  scope: SCOPE,
  tags,
  summary: 'List conversations (status=handoff: waiting for a person)',
  query: listQuerySchema,
  responses: { 200: { description: 'Conversations, most recent first' } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/{id}/`,
  scope: SCOPE,
  tags,
  summary: 'One conversation with its messages',
  params: idParamsSchema,
  responses: {
    200: {
      description:
        'The conversation. A bot answer grounded on the knowledge base carries `sources`: each passage it was given, as ' +
        '{chunk_id, kind: document | entry | correction, title, heading_path, location (URL or file name)}, or ' +
        '{chunk_id, kind: removed} for a passage re-indexed or deleted since',
    },
  },
});
registerRoute({
  method: 'post',
  path: `${PREFIX}/{id}/messages/`,
  scope: SCOPE,
  tags,
  summary: "Send a message to the customer as the key's user",
  params: idParamsSchema,
  body: agentMessageSchema,
  responses: { 201: { description: 'The message, sent or queued for sending' } },
});
registerRoute({
  method: 'post',
  path: `${PREFIX}/{id}/handback/`,
  scope: SCOPE,
  tags,
  summary: 'Give a conversation in handoff back to the bot',
  params: idParamsSchema,
  responses: { 200: { description: 'The conversation is active again' } },
});

/** The API shape of one source of a bot answer. */
function presentSource(source: PassageSource) {
  if (source.kind === 'removed') return { chunk_id: source.chunkId, kind: source.kind };
  return { chunk_id: source.chunkId, kind: source.kind, title: source.title, heading_path: source.headingPath, location: source.location };
}

/** The API shape of a conversation with its customer. */
function presentConversation(conversation: ConversationSummary) {
  return {
    id: conversation.id,
    status: conversation.status,
    // Why the latest handoff happened (customer_asked, not_helpful_feedback, low_retrieval_confidence,
    // provider_failure, agent_took_over) and when; kept after a hand-back.
    handoff: conversation.handoff_reason ? { reason: conversation.handoff_reason, at: conversation.handoff_at } : null,
    agent_replied_at: conversation.agent_replied_at,
    opted_out_at: conversation.opted_out_at,
    flag: conversation.flagged_at ? { reason: conversation.flagged_reason, at: conversation.flagged_at } : null,
    customer: { whatsapp_address: conversation.whatsapp_address, profile_name: conversation.profile_name },
    last_message_at: conversation.last_message_at,
    created_at: conversation.created_at,
  };
}

/** Routes under /v1/bot/conversations. */
export function createConversationsRouter(deps: { conversations: ConversationService }): Router {
  const router = Router();
  router.use(requireScope(SCOPE));

  router.get('/', async (request, response) => {
    const query = parseRequest(listQuerySchema, request.query, 'query');
    const { tenantId } = authOf(response);
    const conversations = await deps.conversations.list(tenantId, { status: query.status, flagged: query.flagged }, query.limit);
    response.json({ data: conversations.map(presentConversation) });
  });

  router.get('/:id', async (request, response) => {
    const { id } = parseRequest(idParamsSchema, request.params, 'path');
    const { conversation, messages } = await deps.conversations.thread(authOf(response).tenantId, id);
    const { created_at: _createdAt, ...summary } = presentConversation(conversation);
    response.json({
      ...summary,
      messages: messages.map(({ sources, ...message }) => ({
        ...message,
        error: explainErrorCode(message.error_code),
        ...(sources ? { sources: sources.map(presentSource) } : {}),
      })),
    });
  });

  router.post('/:id/messages', async (request, response) => {
    const { id } = parseRequest(idParamsSchema, request.params, 'path');
    const { body } = parseRequest(agentMessageSchema, request.body, 'body');
    const { tenantId, userId } = authOf(response);
    const message = await deps.conversations.sendAgentMessage({ tenantId, conversationId: id, userId, body });
    response.status(201).json(presentMessage(message));
  });

  router.post('/:id/handback', async (request, response) => {
    const { id } = parseRequest(idParamsSchema, request.params, 'path');
    await deps.conversations.handBack(authOf(response).tenantId, id);
    response.json({ id, status: 'active' });
  });
  return router;
}

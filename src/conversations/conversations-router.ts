/** Conversations for human agents: list (filter by status) and read one thread. Always scoped to the key's tenant. */
import { Router } from 'express';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { authOf, requireScope } from '../http/auth';
import { notFound } from '../http/errors';
import { parseRequest } from '../http/validate';

const listQuerySchema = z.object({
  status: z.enum(['active', 'handoff', 'closed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const idParamsSchema = z.object({ id: z.uuid() });

/** Routes under /v1/bot/conversations. */
export function createConversationsRouter(deps: { manager: EntityManager }): Router {
  const router = Router();
  router.use(requireScope('conversations:manage'));

  router.get('/', async (request, response) => {
    const query = parseRequest(listQuerySchema, request.query, 'query');
    const { tenantId } = authOf(response);
    const rows = await deps.manager.query(
      `SELECT conversations.id, conversations.status, conversations.last_message_at, conversations.created_at,
              customers.whatsapp_address, customers.profile_name
       FROM conversations JOIN customers ON customers.id = conversations.customer_id
       WHERE conversations.tenant_id = $1 AND ($2::varchar IS NULL OR conversations.status = $2)
       ORDER BY conversations.last_message_at DESC LIMIT $3`,
      [tenantId, query.status ?? null, query.limit],
    );
    response.json({
      data: rows.map((row: Record<string, unknown>) => ({
        id: row.id,
        status: row.status,
        customer: { whatsapp_address: row.whatsapp_address, profile_name: row.profile_name },
        last_message_at: row.last_message_at,
        created_at: row.created_at,
      })),
    });
  });

  router.get('/:id', async (request, response) => {
    const { id } = parseRequest(idParamsSchema, request.params, 'path');
    const { tenantId } = authOf(response);
    const [conversation] = await deps.manager.query(
      `SELECT conversations.id, conversations.status, conversations.last_message_at, conversations.created_at,
              customers.whatsapp_address, customers.profile_name
       FROM conversations JOIN customers ON customers.id = conversations.customer_id
       WHERE conversations.id = $1 AND conversations.tenant_id = $2`,
      [id, tenantId],
    );
    if (!conversation) throw notFound('Conversation');
    const messages = await deps.manager.query(
      `SELECT id, direction, author, author_user_id, body, status, created_at FROM messages
       WHERE conversation_id = $1 AND tenant_id = $2 ORDER BY seq DESC LIMIT 200`,
      [id, tenantId],
    );
    response.json({
      id: conversation.id,
      status: conversation.status,
      customer: { whatsapp_address: conversation.whatsapp_address, profile_name: conversation.profile_name },
      last_message_at: conversation.last_message_at,
      messages: messages.reverse(),
    });
  });
  return router;
}

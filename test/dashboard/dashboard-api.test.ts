/** The dashboard's own API: who am I, the overview against a hand-computed fixture, and the usage breakdowns. */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/db/entities/tenant';
import { createApiKey, createTenant } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';

const DAY_MS = 24 * 60 * 60 * 1000;

interface Turn {
  conversation: { id: string; customerId: string };
  daysAgo: number;
  tier: string;
  rating: 'helpful' | 'not_helpful' | null;
  requestedHuman?: boolean;
  userContinued?: boolean;
  costUsd: string;
  latencyMs: number;
  model?: string;
}

describe('dashboard API', () => {
  let context: TestContext;
  let tenant: Tenant;
  let supervisor: string;
  let agent: string;

  // Counted rather than random: two customers of one tenant can never draw the same number.
  let customersCreated = 0;
  const conversation = async (name: string) => {
    const [customer] = await context.database.dataSource.query(
      `INSERT INTO customers (tenant_id, whatsapp_address, profile_name) VALUES ($1, $2, $3) RETURNING id`,
      [tenant.id, `whatsapp:+1415555${1000 + customersCreated++}`, name],
    );
    const [row] = await context.database.dataSource.query(
      `INSERT INTO conversations (tenant_id, customer_id, status, last_message_at) VALUES ($1, $2, 'active', now()) RETURNING id`,
      [tenant.id, customer.id],
    );
    return { id: row.id as string, customerId: customer.id as string };
  };

  /** One customer message, the bot's answer, its feedback and its model attempt, `daysAgo` days back. */
  const turn = async (input: Turn) => {
    const query = (sql: string, parameters: unknown[]) => context.database.dataSource.query(sql, parameters);
    // Half a day inside the day, so the row sits well within its period whatever the clock says.
    const at = new Date(Date.now() - input.daysAgo * DAY_MS + DAY_MS / 2);
    const [inbound] = await query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, created_at, updated_at)
       VALUES ($1, $2, 'inbound', 'customer', 'hi', 'replied', $3, $3) RETURNING id`,
      [tenant.id, input.conversation.id, at],
    );
    const [interaction] = await query(
      `INSERT INTO agent_interactions (tenant_id, conversation_id, inbound_message_id, provider, model, latency_ms, finish_reason, routing, created_at)
       VALUES ($1, $2, $3, 'openai', $4, $5, 'stop', $6, $7) RETURNING id`,
      [
        tenant.id,
        input.conversation.id,
        inbound.id,
        input.model ?? 'gpt-4.1-mini',
        input.latencyMs,
        JSON.stringify({ tier: input.tier }),
        at,
      ],
    );
    await query(
      `INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, rating, user_continued, requested_human, source, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'implicit', $8, $8)`,
      [
        tenant.id,
        interaction.id,
        input.conversation.id,
        input.conversation.customerId,
        input.rating,
        input.userContinued ?? false,
        input.requestedHuman ?? false,
        at,
      ],
    );
    await query(
      `INSERT INTO provider_usage (tenant_id, conversation_id, agent_interaction_id, provider, model, cost_usd, latency_ms, success, attempt_number, created_at)
       VALUES ($1, $2, $3, 'openai', $4, $5, $6, true, 1, $7)`,
      [tenant.id, input.conversation.id, interaction.id, input.model ?? 'gpt-4.1-mini', input.costUsd, input.latencyMs, at],
    );
  };

  beforeAll(async () => {
    context = await createTestContext();
    ({ tenant } = await createTenant(context));
    supervisor = (await createApiKey(context, tenant, { role: 'supervisor', name: 'Sam' })).secret;
    agent = (await createApiKey(context, tenant, { role: 'agent', name: 'Alex' })).secret;
    const first = await conversation('Ana');
    const second = await conversation('Bruno');
    // Current 7 days: 2 conversations, 3 replies (helpful, not helpful, unrated), Bruno asked for a person.
    await turn({ conversation: first, daysAgo: 1, tier: 'cheap', rating: 'helpful', costUsd: '0.003', latencyMs: 100 });
    await turn({ conversation: first, daysAgo: 2, tier: 'cheap', rating: 'not_helpful', costUsd: '0.001', latencyMs: 300 });
    await turn({
      conversation: second,
      daysAgo: 2,
      tier: 'reasoning',
      rating: null,
      requestedHuman: true,
      costUsd: '0.002',
      latencyMs: 2000,
      model: 'o4-mini',
    });
    // The 7 days before: Ana alone, one helpful reply after which she carried on.
    await turn({
      conversation: first,
      daysAgo: 10,
      tier: 'balanced',
      rating: 'helpful',
      userContinued: true,
      costUsd: '0.004',
      latencyMs: 500,
    });
    // Another tenant's activity never shows.
    const other = await createTenant(context);
    const [otherCustomer] = await context.database.dataSource.query(
      `INSERT INTO customers (tenant_id, whatsapp_address) VALUES ($1, 'whatsapp:+14155550000') RETURNING id`,
      [other.tenant.id],
    );
    await context.database.dataSource.query(
      `INSERT INTO conversations (tenant_id, customer_id, status, last_message_at) VALUES ($1, $2, 'active', now())`,
      [other.tenant.id, otherCustomer.id],
    );
  });
  afterAll(async () => {
    await context.close();
  });

  describe('GET /v1/bot/me', () => {
    it("returns the key's user, tenant and scopes", async () => {
      const response = await request(context.app).get('/v1/bot/me').set('Authorization', `Bearer ${agent}`).expect(200);
      expect(response.body).toMatchObject({
        tenant_id: tenant.id,
        user: { name: 'Alex', role: 'agent' },
        scopes: ['conversations:manage'],
      });
    });

    it('rejects a missing key with 401 in the one error shape', async () => {
      const response = await request(context.app).get('/v1/bot/me').expect(401);
      expect(response.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    });
  });

  describe('GET /v1/bot/dashboard/overview', () => {
    it('computes each figure and its change against the previous period', async () => {
      const response = await request(context.app)
        .get('/v1/bot/dashboard/overview?days=7')
        .set('Authorization', `Bearer ${supervisor}`)
        .expect(200);
      expect(response.body).toMatchObject({
        days: 7,
        conversations: { value: 2, previous: 1, change: 1 },
        bot_replies: { value: 3, previous: 1, change: 2 },
        helpful_rate: { value: 0.5, previous: 1, change: -0.5 },
        // (0.5 + 0.5 + (0.5 - 0.5 for asking for a person)) / 3 now; 0.5 + 0.3 for carrying on before.
        avg_implicit_satisfaction: { value: 0.3333, previous: 0.8, change: -0.4667 },
        handoff_rate: { value: 0.5, previous: 0, change: 0.5 },
        total_cost_usd: { value: '0.006000', previous: '0.004000', change: 0.5 },
        cost_per_conversation_usd: { value: '0.003000', previous: '0.004000', change: -0.25 },
        routing_mix: [
          { tier: 'cheap', replies: 2, share: 0.6667 },
          { tier: 'reasoning', replies: 1, share: 0.3333 },
        ],
      });
    });

    it('has no change when the previous period is empty', async () => {
      const response = await request(context.app)
        .get('/v1/bot/dashboard/overview?days=30')
        .set('Authorization', `Bearer ${supervisor}`)
        .expect(200);
      expect(response.body.conversations).toEqual({ value: 2, previous: 0, change: null });
      expect(response.body.helpful_rate).toEqual({ value: 0.6667, previous: null, change: null });
    });

    it('rejects a period other than 7, 30 or 90 days with 400', async () => {
      const response = await request(context.app)
        .get('/v1/bot/dashboard/overview?days=5')
        .set('Authorization', `Bearer ${supervisor}`)
        .expect(400);
      expect(response.body.error.code).toBe('validation_failed');
    });

    it('needs the analytics:view scope (403)', async () => {
      const response = await request(context.app).get('/v1/bot/dashboard/overview').set('Authorization', `Bearer ${agent}`).expect(403);
      expect(response.body.error.code).toBe('missing_scope');
    });
  });

  describe('GET /v1/bot/dashboard/usage', () => {
    it('breaks cost down per UTC day and model, and latency percentiles per model', async () => {
      const response = await request(context.app)
        .get('/v1/bot/dashboard/usage?days=7')
        .set('Authorization', `Bearer ${supervisor}`)
        .expect(200);
      const costs = response.body.by_day_and_model as Array<{ model: string; cost_usd: string; calls: number }>;
      expect(costs.reduce((sum, row) => sum + row.calls, 0)).toBe(3);
      expect(costs.filter((row) => row.model === 'o4-mini').map((row) => Number(row.cost_usd))).toEqual([0.002]);
      expect(response.body.latency_by_model).toEqual([
        { provider: 'openai', model: 'gpt-4.1-mini', calls: 2, p50_ms: 200, p95_ms: 290, p99_ms: 298 },
        { provider: 'openai', model: 'o4-mini', calls: 1, p50_ms: 2000, p95_ms: 2000, p99_ms: 2000 },
      ]);
    });

    it('rejects a bad period with 400 and a key without analytics:view with 403', async () => {
      await request(context.app).get('/v1/bot/dashboard/usage?days=abc').set('Authorization', `Bearer ${supervisor}`).expect(400);
      await request(context.app).get('/v1/bot/dashboard/usage').set('Authorization', `Bearer ${agent}`).expect(403);
    });
  });
});

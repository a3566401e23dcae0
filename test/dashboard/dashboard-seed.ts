/**
 * Seed data for the dashboard's browser tests: 28 days of conversations, bot replies with routing decisions,
 * feedback, model attempts (several providers and models, some failures, one open breaker) and two conversations
 * waiting in handoff.
 * Written straight to the tables, deterministically, so the figures the page shows can be checked against the API.
 */
import type { DataSource } from 'typeorm';
import { credentialFingerprint } from '../../src/llm/provider-credential';
import { mulberry32 } from '../../src/seeded-random';

/**
 * The seeded tenant's own Gemini key: the open breaker is that key's, which the health view shows the tenant. The
 * seed answers every message itself, so no model is ever called with it.
 */
export const SEEDED_GEMINI_KEY = 'g-dashboard-seed-key';

const DAY_MS = 24 * 60 * 60 * 1000;
const MODELS = [
  { provider: 'openai', model: 'gpt-4.1-mini', tier: 'cheap', costMicros: 180, latency: 700 },
  { provider: 'openai', model: 'gpt-4.1', tier: 'balanced', costMicros: 2_400, latency: 1_400 },
  { provider: 'gemini', model: 'gemini-2.5-flash', tier: 'cheap', costMicros: 150, latency: 650 },
  { provider: 'gemini', model: 'gemini-2.5-pro', tier: 'reasoning', costMicros: 9_000, latency: 3_200 },
];

/** A deterministic generator (src/seeded-random.ts), so every run seeds the same rows. */
const random = mulberry32;

export interface SeededHandoff {
  conversationId: string;
  customerName: string;
}

/**
 * Seeds `days` days of history for a tenant (created with SEEDED_GEMINI_KEY as its Gemini key) and two
 * conversations in handoff; returns the first (Ana's).
 */
export async function seedDashboardHistory(dataSource: DataSource, tenantId: string, days = 28): Promise<SeededHandoff> {
  const next = random(7);
  const now = Date.now();
  await dataSource.transaction(async (manager) => {
    for (let customerIndex = 0; customerIndex < 24; customerIndex += 1) {
      const [customer] = await manager.query(
        `INSERT INTO customers (tenant_id, whatsapp_address, wa_id, profile_name) VALUES ($1, $2, $3, $4) RETURNING id`,
        [tenantId, `whatsapp:+1415555${String(1000 + customerIndex)}`, `1415555${1000 + customerIndex}`, `Customer ${customerIndex + 1}`],
      );
      const [conversation] = await manager.query(
        `INSERT INTO conversations (tenant_id, customer_id, status, last_message_at) VALUES ($1, $2, 'active', now()) RETURNING id`,
        [tenantId, customer.id],
      );
      // Each customer writes on a few days of the period; more activity in recent days.
      for (let day = days - 1; day >= 0; day -= 1) {
        if (next() > 0.12 + (days - day) / (days * 4)) continue;
        const at = new Date(now - day * DAY_MS - Math.floor(next() * 6 * 60 * 60 * 1000) - 60_000);
        const [inbound] = await manager.query(
          `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, created_at, updated_at)
           VALUES ($1, $2, 'inbound', 'customer', 'Where is my order?', 'replied', $3, $3) RETURNING id`,
          [tenantId, conversation.id, at],
        );
        const model = MODELS[Math.floor(next() * MODELS.length)];
        const latency = Math.round(model.latency * (0.6 + next()));
        const [interaction] = await manager.query(
          `INSERT INTO agent_interactions (tenant_id, conversation_id, inbound_message_id, provider, model, input_tokens, output_tokens, total_tokens,
                                           latency_ms, finish_reason, routing, created_at)
           VALUES ($1, $2, $3, $4, $5, 600, 120, 720, $6, 'stop', $7, $8) RETURNING id`,
          [
            tenantId,
            conversation.id,
            inbound.id,
            model.provider,
            model.model,
            latency,
            JSON.stringify({ tier: model.tier, reason: 'seeded' }),
            at,
          ],
        );
        // A failed first attempt now and then, answered by the next model.
        if (next() < 0.15) {
          await manager.query(
            `INSERT INTO provider_usage (tenant_id, conversation_id, agent_interaction_id, provider, model, cost_usd, latency_ms, success,
                                         error_kind, attempt_number, created_at)
             VALUES ($1, $2, $3, 'openai', 'gpt-4.1', 0, $4, false, 'server_error', 1, $5)`,
            [tenantId, conversation.id, interaction.id, Math.round(800 + next() * 4000), at],
          );
        }
        await manager.query(
          `INSERT INTO provider_usage (tenant_id, conversation_id, agent_interaction_id, provider, model, input_tokens, output_tokens, total_tokens,
                                       cost_usd, latency_ms, success, attempt_number, created_at)
           VALUES ($1, $2, $3, $4, $5, 600, 120, 720, $6::numeric / 1000000, $7, true, 1, $8)`,
          [tenantId, conversation.id, interaction.id, model.provider, model.model, model.costMicros, latency, at],
        );
        const rated = next();
        await manager.query(
          `INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, rating, user_continued,
                                             completed_action, requested_human, response_time_seconds, source, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
          [
            tenantId,
            interaction.id,
            conversation.id,
            customer.id,
            rated < 0.45 ? 'helpful' : rated < 0.6 ? 'not_helpful' : null,
            next() < 0.5,
            next() < 0.25,
            next() < 0.06,
            Math.round(next() * 90),
            rated < 0.6 ? 'whatsapp_button' : 'implicit',
            at,
          ],
        );
      }
    }
  });

  // Attempts of the last few minutes, for the provider health table (it looks at the last hour).
  for (const [minutesAgo, provider, model, success, latency] of [
    [2, 'openai', 'gpt-4.1-mini', true, 640],
    [3, 'openai', 'gpt-4.1-mini', true, 910],
    [4, 'gemini', 'gemini-2.5-pro', false, 30_000],
    [5, 'gemini', 'gemini-2.5-pro', true, 2_900],
  ] as const) {
    await dataSource.query(
      `INSERT INTO provider_usage (tenant_id, provider, model, cost_usd, latency_ms, success, error_kind, attempt_number, created_at)
       VALUES ($1, $2, $3, 0.0002, $4, $5, $6, 1, now() - make_interval(mins => $7))`,
      [tenantId, provider, model, latency, success, success ? null : 'timeout', minutesAgo],
    );
  }

  // The failing model's breaker, for the tenant's own Gemini key (the server has no GEMINI_BASE_URL), is open.
  const fingerprint = credentialFingerprint({ provider: 'gemini', baseUrl: undefined, apiKey: SEEDED_GEMINI_KEY, tenantId });
  await dataSource.query(
    `INSERT INTO llm_circuit_breakers (provider, model, credential_fingerprint, tenant_id, state, consecutive_failures, opened_at, closed_at, updated_at)
     VALUES ('gemini', 'gemini-2.5-pro', $1, $2, 'open', 5, now() - interval '2 minutes', now() - interval '1 hour', now())`,
    [fingerprint, tenantId],
  );

  const ana = await seedHandoff(dataSource, tenantId, 'Ana Souza', '+14155559999', [
    ['inbound', 'customer', 'My parcel says delivered but it is not here.'],
    [
      'outbound',
      'bot',
      'Sorry to hear that! Couriers sometimes mark parcels as delivered a little early. Could you check with neighbours?',
    ],
    ['inbound', 'customer', 'I already did. I want to talk to a person please.'],
    ['outbound', 'system', 'A person from our team will reply here shortly.'],
  ]);
  await seedHandoff(dataSource, tenantId, 'Bruno Lima', '+14155559998', [
    ['inbound', 'customer', 'Quero falar com um atendente, por favor.'],
    ['outbound', 'system', 'Uma pessoa da nossa equipe vai responder em breve.'],
    ['inbound', 'customer', 'É sobre a troca do tênis tamanho 42.'],
  ]);
  return ana;
}

/** A customer's conversation in handoff with the given thread, oldest message first. */
async function seedHandoff(
  dataSource: DataSource,
  tenantId: string,
  name: string,
  number: string,
  thread: Array<[direction: string, author: string, body: string]>,
): Promise<SeededHandoff> {
  const [customer] = await dataSource.query(
    `INSERT INTO customers (tenant_id, whatsapp_address, wa_id, profile_name) VALUES ($1, $2, $3, $4) RETURNING id`,
    [tenantId, `whatsapp:${number}`, number.slice(1), name],
  );
  const [conversation] = await dataSource.query(
    `INSERT INTO conversations (tenant_id, customer_id, status, last_message_at) VALUES ($1, $2, 'handoff', now()) RETURNING id`,
    [tenantId, customer.id],
  );
  const now = Date.now();
  for (const [index, [direction, author, body]] of thread.entries()) {
    const at = new Date(now - (thread.length - index) * 60_000);
    await dataSource.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [tenantId, conversation.id, direction, author, body, direction === 'inbound' ? 'skipped' : 'simulated', at],
    );
  }
  return { conversationId: conversation.id, customerName: name };
}

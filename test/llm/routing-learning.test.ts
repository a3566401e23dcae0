/**
 * Routing that learns, end to end: answers routed by the trained scorer record their (kind, tier) cell and the
 * policy's propensity; ratings and implicit signals credit the cell in PostgreSQL, once per answer, seen by every
 * instance; a not-helpful click sends the conversation's next turns one tier up.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cellKey } from '../../src/llm/routing/tier-policy';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { useFakeProvidersContext } from '../support/fake-openai-context';
import type { TestContext } from '../support/test-context';

let context: TestContext;
let shop: TenantFixture;
const customer = 'whatsapp:+14155550177';

// Keys and base URLs from the environment (the fakes'); the tenants have none of their own.
const suite = useFakeProvidersContext();
beforeAll(() => {
  ({ context } = suite);
});
beforeEach(async () => {
  // The factory's tenants never explore: every decision here is the exploiting one, so the expected tiers are exact.
  shop = await createTenant(context);
});

/** Sends one customer message and answers it; returns the interaction row. */
async function turn(body: string): Promise<Record<string, unknown>> {
  await postInbound(context, shop, inboundParams(shop, { Body: body, From: customer })).expect(200);
  await context.services.processor.drain();
  const [interaction] = await context.database.dataSource.query('SELECT * FROM agent_interactions ORDER BY created_at DESC LIMIT 1');
  return interaction;
}

async function cell(kind: string, tier: string): Promise<{ good: number; bad: number } | undefined> {
  const [row] = await context.database.dataSource.query(
    'SELECT good::float8 AS good, bad::float8 AS bad FROM routing_posteriors WHERE tenant_id = $1 AND message_kind = $2 AND tier = $3',
    [shop.tenant.id, kind, tier],
  );
  return row;
}

const rate = (interactionId: string, rating: 'helpful' | 'not_helpful') =>
  context.services.feedback.recordRating({ tenantId: shop.tenant.id, interactionId, rating, source: 'api' });

describe('routing that learns from feedback', () => {
  it('records the kind, the policy tier, the propensity and the scorer version of each routed answer', async () => {
    const interaction = await turn('Hello, good morning!');
    expect(interaction).toMatchObject({ message_kind: 'greeting', routing_tier: 'cheap', routing_propensity: '1.000000' });
    expect(interaction.routing).toMatchObject({ tier: 'cheap', kind: 'greeting', policyTier: 'cheap', propensity: 1, explored: false });
    expect((interaction.routing as { modelVersion: string }).modelVersion).toMatch(/\S/);
  });

  it('credits a rating to its cell once, moves it by the difference when the rating changes, and every instance sees it', async () => {
    const interaction = await turn('Hello, good morning!');
    const id = interaction.id as string;
    await rate(id, 'helpful');
    await rate(id, 'helpful');
    expect(await cell('greeting', 'cheap')).toEqual({ good: 1, bad: 0 });

    const other = context.newInstance();
    await other.services.posteriors.ensureFresh(shop.tenant.id);
    expect(other.services.posteriors.cells(shop.tenant.id).get(cellKey('greeting', 'cheap'))).toEqual({ good: 1, bad: 0 });

    await other.services.feedback.recordRating({
      tenantId: shop.tenant.id,
      interactionId: id,
      rating: 'not_helpful',
      source: 'whatsapp_button',
    });
    expect(await cell('greeting', 'cheap')).toEqual({ good: 0, bad: 1 });
  });

  it('counts implicit signals at half weight, and only without a rating', async () => {
    const first = (await turn('Hello, good morning!')).id as string;
    await context.services.feedback.recordHumanRequest(shop.tenant.id, first);
    expect(await cell('greeting', 'cheap')).toEqual({ good: 0, bad: 0.5 });
    await context.services.feedback.recordEvent(shop.tenant.id, first, { type: 'purchase', value: '20' }, new Date());
    expect(await cell('greeting', 'cheap')).toEqual({ good: 0.5, bad: 0.5 });
    // An explicit rating replaces both implicit signals of that answer.
    await rate(first, 'helpful');
    expect(await cell('greeting', 'cheap')).toEqual({ good: 1, bad: 0 });
  });

  it('sends the next turns of a conversation one tier up after a not-helpful click', async () => {
    const first = await turn('Hello, good morning!');
    expect(first.routing_tier).toBe('cheap');
    await rate(first.id as string, 'not_helpful');
    const second = await turn('Hello again, good morning!');
    expect(second).toMatchObject({ routing_tier: 'cheap' });
    expect(second.routing).toMatchObject({ tier: 'balanced', policyTier: 'cheap' });
    expect((second.routing as { reason: string }).reason).toContain('escalated to balanced');
    // The click counted once: a second not-helpful on the same answer does not escalate further.
    await rate(first.id as string, 'not_helpful');
    const [conversation] = await context.database.dataSource.query('SELECT routing_escalation FROM conversations');
    expect(conversation.routing_escalation).toBe(1);
  });

  it('learns per tenant: what one tenant taught does not move another', async () => {
    // The shop's customers found cheap answers to greetings unhelpful 30 times, balanced ones helpful 30 times.
    await context.database.dataSource.query(
      `INSERT INTO routing_posteriors (tenant_id, message_kind, tier, good, bad) VALUES ($1, 'greeting', 'cheap', 0, 30), ($1, 'greeting', 'balanced', 30, 0)`,
      [shop.tenant.id],
    );
    const learnt = await turn('Hello, good morning!');
    expect(learnt).toMatchObject({ message_kind: 'greeting', routing_tier: 'balanced' });
    shop = await createTenant(context);
    const untaught = await turn('Hello, good morning!');
    expect(untaught).toMatchObject({ message_kind: 'greeting', routing_tier: 'cheap' });
  });
});

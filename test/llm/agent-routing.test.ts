import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeGeminiServer } from '../fakes/gemini-server';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { useFakeProvidersContext } from '../support/fake-openai-context';
import type { TestContext } from '../support/test-context';

let context: TestContext;
let gemini: FakeGeminiServer;
let shop: TenantFixture;

// Keys and base URLs from the environment (the fakes'); the tenants have none of their own.
const suite = useFakeProvidersContext();
beforeAll(() => {
  ({ context, gemini } = suite);
});
beforeEach(async () => {
  shop = await createTenant(context);
});

async function answer(body: string) {
  await postInbound(context, shop, inboundParams(shop, { Body: body })).expect(200);
  await context.services.processor.drain();
  const [interaction] = await context.database.dataSource.query('SELECT * FROM agent_interactions');
  const usage = await context.database.dataSource.query('SELECT * FROM provider_usage ORDER BY attempt_number');
  const [reply] = await context.database.dataSource.query(`SELECT body FROM messages WHERE direction = 'outbound'`);
  return { interaction, usage, reply };
}

describe('a WhatsApp message answered by the routed model', () => {
  it('sends a greeting to the cheap tier and records the decision on the interaction and the usage row', async () => {
    gemini.book.answer = () => ({ text: 'Hello! How can I help you today?', usage: { input: 80, output: 9 } });
    const { interaction, usage, reply } = await answer('Hello there!');
    expect(reply.body).toBe('Hello! How can I help you today?');
    expect(interaction).toMatchObject({ provider: 'gemini', model: 'gemini-2.0-flash', input_tokens: 80, output_tokens: 9 });
    expect(interaction.routing).toMatchObject({
      tier: 'cheap',
      provider: 'gemini',
      model: 'gemini-2.0-flash',
      answeredBy: { provider: 'gemini', model: 'gemini-2.0-flash' },
    });
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({
      agent_interaction_id: interaction.id,
      tenant_id: shop.tenant.id,
      conversation_id: interaction.conversation_id,
      success: true,
    });
    expect(gemini.book.requests[0].headers['x-goog-api-key']).toBe('g-env');
  });

  it('fails over to the next model when the routed one is down, and the interaction names the model that answered', async () => {
    gemini.book.fail('unavailable', { model: 'gemini-2.0-flash', times: Infinity });
    const { interaction, usage, reply } = await answer(
      "My order #48213 still hasn't arrived and it has been 10 days since I paid. Can you check?",
    );
    expect(reply.body).toMatch(/^echo: /);
    expect(interaction.routing).toMatchObject({ tier: 'cheap', kind: 'account', model: 'gemini-2.0-flash' });
    expect(interaction).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(usage.map((row: { model: string; success: boolean }) => `${row.model}:${row.success}`)).toEqual([
      'gemini-2.0-flash:false',
      'gemini-2.0-flash:false',
      'gpt-4o-mini:true',
    ]);
  });
});

/**
 * How many SQL statements a turn costs, counted (not timed): a one-part reply from a real model through the
 * provider layer, sent through the fake Twilio API. The bound guards the reply path's database work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStatementsOf } from '../../src/db/statement-counter';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { createKnowledge, createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';

const CUSTOMERS = 20;

describe('database work per turn', () => {
  let context: TestContext;
  let openai: FakeOpenAIServer;
  let twilio: FakeTwilioServer;

  beforeAll(async () => {
    [openai, twilio] = await Promise.all([startFakeOpenAI(), startFakeTwilio()]);
    context = await createTestContext({
      environment: { OPENAI_API_KEY: 'sk-platform', OPENAI_BASE_URL: openai.baseUrl, TWILIO_API_BASE_URL: twilio.url },
    });
  });
  afterAll(async () => {
    await context.close();
    await Promise.all([openai.close(), twilio.close()]);
  });

  /** Statements per turn of a known customer writing again, for a new tenant that `setUp` prepares. */
  async function statementsPerTurn(prefix: string, setUp: (shop: TenantFixture) => Promise<void> = async () => {}) {
    const accountSid = `AC${prefix.repeat(32)}`;
    const authToken = `capacity-token-${prefix}-0123456789`;
    twilio.accounts.set(accountSid, authToken);
    const shop = await createTenant(context, { credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken } });
    await setUp(shop);
    const sentBefore = twilio.messages.length;
    // A first exchange per customer, so the measured turns are the common case (a known customer writing again).
    const customers = Array.from({ length: CUSTOMERS }, (_, index) => `whatsapp:+1555${prefix}00${String(index).padStart(4, '0')}`);
    for (const customer of customers)
      await postInbound(context, shop, inboundParams(shop, { From: customer, Body: 'Hello there' })).expect(200);
    await context.services.processor.drain();
    for (const customer of customers)
      await postInbound(context, shop, inboundParams(shop, { From: customer, Body: 'Where is my order?' })).expect(200);
    // Only the drain's own statements: another file's leftover timers in this worker must not count as turns' work.
    const perTurn = (await countStatementsOf(() => context.services.processor.drain())) / CUSTOMERS;
    expect(twilio.messages.length - sentBefore).toBe(2 * CUSTOMERS);
    return perTurn;
  }

  it('answers a message with a bounded number of statements', async () => {
    // 21.6 before the turn was settled in one statement and the sender read its destination from its claim; 8.25
    // since the options a typed "1" may answer are loaded with the turn; 2.8 since the burst and the history come
    // with the turn's load, the implicit feedback and the first part's send claim with its settling, and usage rows
    // and sends marked sent are written together (the drain runs the 20 turns at once, so those batch fully).
    expect(await statementsPerTurn('1')).toBeLessThanOrEqual(3.5);
  });

  it('adds two statements when the tenant has knowledge to search (the keyword leg and the passages it found)', async () => {
    const withoutKnowledge = await statementsPerTurn('2');
    const withKnowledge = await statementsPerTurn('3', (shop) =>
      createKnowledge(context, shop.tenant, [{ question: 'Where is my order?', answer: 'Send us your order number.' }]),
    );
    // Plus the tenant's passage summary, read at most once a second (the drain's 20 turns take one to a few seconds);
    // counting the passages on every turn made it 4 (summary, keyword leg, passages, document titles), then 3.
    expect(withKnowledge - withoutKnowledge).toBeLessThanOrEqual(2.5);
  });
});

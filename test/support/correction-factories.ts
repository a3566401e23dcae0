/** Factories for the corrections and feedback API tests: answered interactions (through the real webhook) and API calls with a key. */
import request from 'supertest';
import { inboundParams, postInbound, type TenantFixture } from './factories';
import type { TestContext } from './test-context';

/** Sends a customer message through the signed webhook, lets the processor answer, and returns the interaction and the reply. */
export async function answeredInteraction(
  context: TestContext,
  fixture: TenantFixture,
  body: string,
  customer = 'whatsapp:+14155550100',
): Promise<{ interactionId: string; conversationId: string; reply: string }> {
  const params = inboundParams(fixture, { Body: body, From: customer });
  await postInbound(context, fixture, params).expect(200);
  await context.services.processor.drain();
  const [row]: Array<{ id: string; conversation_id: string; reply: string }> = await context.database.dataSource.query(
    `SELECT interaction.id, interaction.conversation_id, reply.body AS reply
     FROM agent_interactions interaction
     JOIN messages inbound ON inbound.id = interaction.inbound_message_id
     LEFT JOIN messages reply ON reply.id = interaction.reply_message_id
     WHERE inbound.message_sid = $1`,
    [params.MessageSid],
  );
  if (!row) throw new Error(`No interaction for "${body}"`);
  return { interactionId: row.id, conversationId: row.conversation_id, reply: row.reply };
}

/** supertest calls authenticated with an API key secret. */
export function withKey(context: Pick<TestContext, 'app'>, secret: string) {
  const authorized = (test: request.Test) => test.set('Authorization', `Bearer ${secret}`);
  return {
    get: (path: string) => authorized(request(context.app).get(path)),
    post: (path: string, body: object = {}) => authorized(request(context.app).post(path)).send(body),
    patch: (path: string, body: object = {}) => authorized(request(context.app).patch(path)).send(body),
    delete: (path: string) => authorized(request(context.app).delete(path)),
  };
}

/** A valid free-standing correction body. */
export function correctionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer_message: 'Do you deliver on Sundays?',
    bot_response: 'No, we never deliver on Sundays.',
    human_response: 'Yes: Sunday delivery is available in the city centre.',
    correction_reason: 'Policy changed in May',
    correction_category: 'factual_error',
    ...overrides,
  };
}

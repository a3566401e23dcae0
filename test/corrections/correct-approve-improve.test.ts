import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createKnowledge, createTenant, type TenantFixture } from '../support/factories';
import { answeredInteraction, withKey } from '../support/correction-factories';
import { echoReplies } from '../support/scripted-replies';
import { useTestContext } from '../support/test-context';

const WRONG = 'No, we never deliver on Sundays.';
const RIGHT = 'Yes: Sunday delivery is available in the city centre, 10:00 to 14:00.';

describe('corrections improve answers', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let supervisor: ReturnType<typeof withKey>;

  beforeEach(async () => {
    shop = await createTenant(context);
    await createKnowledge(context, shop.tenant, [{ question: 'Do you deliver on Sundays?', answer: WRONG }]);
    supervisor = withKey(context, (await createApiKey(context, shop.tenant, { role: 'supervisor' })).secret);
  });

  it('answers wrongly, is corrected and approved, then answers with the correction', async () => {
    const first = await answeredInteraction(context, shop, 'Do you deliver on Sundays?');
    expect(first.reply).toContain(WRONG);

    const created = await supervisor.post('/v1/bot/corrections/', {
      interaction_id: first.interactionId,
      human_response: RIGHT,
      correction_category: 'factual_error',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      customer_message: 'Do you deliver on Sundays?',
      bot_response: first.reply,
      conversation_id: first.conversationId,
    });

    // Not approved yet: the bot still answers from its knowledge.
    expect((await answeredInteraction(context, shop, 'do you deliver on sundays', 'whatsapp:+14155550111')).reply).toContain(WRONG);

    await supervisor.post(`/v1/bot/corrections/${created.body.id}/approve/`, { approved: true, quality_score: 5 }).expect(200);
    const after = await answeredInteraction(context, shop, 'Do you deliver on Sundays?', 'whatsapp:+14155550122');
    expect(after.reply).toContain(RIGHT);
    const [interaction] = await context.database.dataSource.query('SELECT knowledge_ids FROM agent_interactions WHERE id = $1', [
      after.interactionId,
    ]);
    expect(interaction.knowledge_ids).toContain(created.body.id);

    // Withdrawing the approval withdraws the guidance.
    await supervisor.post(`/v1/bot/corrections/${created.body.id}/approve/`, { approved: false, quality_score: 1 }).expect(200);
    expect((await answeredInteraction(context, shop, 'Do you deliver on Sundays?', 'whatsapp:+14155550133')).reply).toContain(WRONG);
  });

  it('answers a question the knowledge never covered once a correction is approved, and only for its tenant', async () => {
    const unknown = await answeredInteraction(context, shop, 'Can I pay with bitcoin?');
    expect(unknown.reply).not.toContain('Lightning');
    const created = await supervisor.post('/v1/bot/corrections', {
      interaction_id: unknown.interactionId,
      human_response: 'Yes, we accept bitcoin over Lightning at checkout.',
      correction_category: 'missing_information',
    });
    await supervisor.post(`/v1/bot/corrections/${created.body.id}/approve`, { approved: true, quality_score: 4 }).expect(200);
    expect((await answeredInteraction(context, shop, 'can i pay with bitcoin', 'whatsapp:+14155550144')).reply).toContain('Lightning');

    const other = await createTenant(context);
    expect((await answeredInteraction(context, other, 'Can I pay with bitcoin?')).reply).not.toContain('Lightning');
  });

  it('gives a real model the approved correction as guidance in the system prompt', async () => {
    const replies = echoReplies();
    const instance = context.newInstance({ replies });
    const created = await supervisor.post('/v1/bot/corrections', {
      customer_message: 'Do you deliver on Sundays?',
      bot_response: WRONG,
      human_response: RIGHT,
      correction_category: 'factual_error',
    });
    await supervisor.post(`/v1/bot/corrections/${created.body.id}/approve`, { approved: true, quality_score: 5 }).expect(200);
    await answeredInteraction({ ...context, ...instance }, shop, 'Do you deliver on Sundays?', 'whatsapp:+14155550155');
    const [call] = replies.calls;
    const system = call.messages[0].content;
    expect(system).toContain('Corrections from human agents');
    expect(system).toContain(RIGHT);
    expect(call.knowledge[0]).toMatchObject({ id: created.body.id, source: 'correction', answer: RIGHT });
  });
});

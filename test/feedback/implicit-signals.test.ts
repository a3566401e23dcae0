import { beforeEach, describe, expect, it } from 'vitest';
import { implicitSatisfaction } from '../../src/feedback/satisfaction';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { useTestContext } from '../support/test-context';

describe('implicit feedback signals', () => {
  const context = useTestContext({ replies: echoReplies() });
  let shop: TenantFixture;

  beforeEach(async () => {
    shop = await createTenant(context, { settings: { feedbackButtons: 'always' } });
  });

  const query = (sql: string, parameters: unknown[] = []) => context.database.dataSource.query(sql, parameters);

  /**
   * The customer's next message, arriving `secondsAfterReply` after the previous answer was sent. Time is set on
   * the stored rows (the database clock), so the test controls it exactly.
   */
  const replyAfter = async (secondsAfterReply: number, body: string) => {
    const response = await postInbound(context, shop, inboundParams(shop, { Body: body })).expect(200);
    expect(response.status).toBe(200);
    await query(
      `UPDATE messages SET created_at = (SELECT max(processed_at) FROM messages WHERE author = 'bot') + make_interval(secs => $1)
       WHERE direction = 'inbound' AND status = 'received'`,
      [secondsAfterReply],
    );
    await context.services.processor.drain();
  };
  const firstAnswer = async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'what are your opening hours?' })).expect(200);
    await context.services.processor.drain();
    return (await query('SELECT id FROM agent_interactions'))[0].id as string;
  };
  const feedbackOf = async (interactionId: string) =>
    (await query('SELECT * FROM interaction_feedback WHERE agent_interaction_id = $1', [interactionId]))[0];

  it('marks the previous answer continued, with the response time, when the next message comes quickly (score 1.0)', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(12, 'and on Sundays?');
    expect(await feedbackOf(interactionId)).toMatchObject({
      user_continued: true,
      response_time_seconds: 12,
      source: 'implicit',
      rating: null,
      implicit_satisfaction: '1.000',
    });
  });

  it('scores 0.8 for a continuation after 31 seconds', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(31, 'and on Sundays?');
    expect(await feedbackOf(interactionId)).toMatchObject({
      user_continued: true,
      response_time_seconds: 31,
      implicit_satisfaction: '0.800',
    });
  });

  it('keeps the first response time when more messages follow the same answer (a conversation in handoff)', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(20, 'talk to a human please');
    await replyAfter(300, 'hello?');
    expect(await feedbackOf(interactionId)).toMatchObject({ user_continued: true, requested_human: true, response_time_seconds: 20 });
  });

  it('counts a message exactly 30 minutes later as continuing (1,800 s)', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(30 * 60, 'still there?');
    expect(await feedbackOf(interactionId)).toMatchObject({ user_continued: true, response_time_seconds: 1800 });
  });

  it('counts a message the clocks put before the reply as continuing at once (0 s)', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(-2, 'thanks');
    expect(await feedbackOf(interactionId)).toMatchObject({ user_continued: true, response_time_seconds: 0 });
  });

  it('does not count a message more than 30 minutes later as continuing', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(30 * 60 + 1, 'hi again');
    expect(await feedbackOf(interactionId)).toBeUndefined();
  });

  it('does not count a feedback tap as continuing', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(5, '1');
    expect(await feedbackOf(interactionId)).toMatchObject({
      rating: 'helpful',
      user_continued: false,
      response_time_seconds: null,
      source: 'whatsapp_button',
    });
  });

  it('marks a request for a person on the previous answer (continued, quick, asked for a human: 0.5)', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(8, 'let me talk to a real person');
    expect(await feedbackOf(interactionId)).toMatchObject({ requested_human: true, user_continued: true, implicit_satisfaction: '0.500' });
  });

  it('computes the stored score with the documented formula at every combination of signals', async () => {
    const interactionId = await firstAnswer();
    await replyAfter(1, 'ok');
    for (const userContinued of [false, true]) {
      for (const completedAction of [false, true]) {
        for (const requestedHuman of [false, true]) {
          for (const responseTimeSeconds of [null, 0, 30, 31, 1800]) {
            await query(
              `UPDATE interaction_feedback SET user_continued = $2, completed_action = $3, requested_human = $4, response_time_seconds = $5
               WHERE agent_interaction_id = $1`,
              [interactionId, userContinued, completedAction, requestedHuman, responseTimeSeconds],
            );
            const { implicit_satisfaction: stored } = await feedbackOf(interactionId);
            expect(Number(stored), JSON.stringify({ userContinued, completedAction, requestedHuman, responseTimeSeconds })).toBe(
              implicitSatisfaction({ userContinued, completedAction, requestedHuman, responseTimeSeconds }),
            );
          }
        }
      }
    }
  });
});

/**
 * Provider chaos: the fake OpenAI and Gemini servers fail 30% of attempts at random (errors, hangs, 429s, resets),
 * drawn from the run's seed (TEST_SEED replays them). 1,000 WhatsApp messages must all be settled: answered by some
 * model, or, in a turn where every model failed, by the friendly fallback that hands the conversation to a person
 * (provider_failure), whose later messages are then left to that person. No reply may start a model call or a wait
 * past its deadline, and ProviderUsage must account for every attempt. The deadline is checked on each reply's own clock (test/support/reply-timelines.ts):
 * waits between attempts advance it without real waiting, calls advance it by the time they took, and what the
 * engine started when is known exactly, however loaded the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderRegistry } from '../../src/llm/provider-registry';
import { GeminiChatProvider } from '../../src/llm/providers/gemini/gemini-chat-model';
import { OpenAIChatProvider } from '../../src/llm/providers/openai/openai-chat-model';
import { createReplyGenerator } from '../../src/llm/reply-generator';
import { ProviderUsageRecorder } from '../../src/tracking/provider-usage-recorder';
import { type FakeGeminiServer, startFakeGemini } from '../fakes/gemini-server';
import type { FaultBook, LlmFault } from '../fakes/llm-faults';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { ReplyTimelines } from '../support/reply-timelines';
import { seededRandom } from '../support/seeded-random';
import { createTestContext, silentLogger, type TestContext } from '../support/test-context';

const MESSAGES = 1_000;
const CONVERSATIONS = 100;
const DEADLINE_MS = 2_000;
const CHAOS: LlmFault[] = ['server_error', 'unavailable', 'rate_limit', 'hang', 'reset'];

/** Makes a fake fail a random 30% of requests with a random fault of the chaos set, drawn from the run's seed. */
function unleashChaos(book: FaultBook, random: () => number): void {
  book.retryAfterSeconds = 1;
  book.take = () => (random() < 0.3 ? CHAOS[Math.floor(random() * CHAOS.length)] : undefined);
}

describe('provider chaos: 30% of attempts fail at random', () => {
  let context: TestContext;
  let openai: FakeOpenAIServer;
  let gemini: FakeGeminiServer;
  let shop: TenantFixture;
  const timelines = new ReplyTimelines();

  beforeAll(async () => {
    [openai, gemini] = await Promise.all([startFakeOpenAI(), startFakeGemini()]);
    unleashChaos(openai.book, seededRandom('openai faults'));
    unleashChaos(gemini.book, seededRandom('gemini faults'));
    context = await createTestContext();
    const replies = createReplyGenerator({
      config: context.config,
      manager: context.database.dataSource.manager,
      usage: new ProviderUsageRecorder(context.database.dataSource.manager),
      logger: silentLogger,
      registry: new ProviderRegistry(context.config, {
        openai: timelines.provider(new OpenAIChatProvider({ apiKey: 'sk-fake', baseUrl: openai.baseUrl })),
        gemini: timelines.provider(new GeminiChatProvider({ apiKey: 'g-fake', baseUrl: gemini.baseUrl })),
      }),
      // Each reply's clock: waits cost no real time, and a Retry-After (1 s, within this cap) is still honoured.
      now: timelines.now,
      sleep: timelines.sleep,
      random: seededRandom('backoff jitter'),
      failover: { baseBackoffMs: 20, maxBackoffMs: 200, retryAfterCapMs: 1_000 },
    });
    const instance = context.newInstance({ replies: timelines.replies(replies) });
    Object.assign(context, { services: instance.services, app: instance.app });
    shop = await createTenant(context, {
      credentials: { openaiApiKey: 'sk-fake', geminiApiKey: 'g-fake' },
      // The registry above connects both adapters to the fakes: the tenant names no base URL.
      settings: { llm: { attemptTimeoutMs: 250, deadlineMs: DEADLINE_MS } },
    });
  });
  afterAll(async () => {
    await context?.close();
    await Promise.all([openai?.close(), gemini?.close()]);
  });

  it('answers all 1,000 messages, starts nothing past the deadline of its reply, and records every attempt', async () => {
    for (let index = 0; index < MESSAGES; index += 1) {
      const customer = `whatsapp:+1555${String(4_000_000 + (index % CONVERSATIONS)).padStart(7, '0')}`;
      const body =
        index % 4 === 0
          ? 'hi'
          : index % 4 === 1
            ? `Where is my order #${index}?`
            : index % 4 === 2
              ? 'Compare your two plans step by step and explain the trade-offs'
              : 'What is your refund policy?';
      await postInbound(context, shop, inboundParams(shop, { Body: body, From: customer })).expect(200);
    }
    await context.services.processor.drain();

    const manager = context.database.dataSource.manager;
    // Skipped only in a conversation handed to a person after every model failed for one of its turns.
    const [{ replied, leftToPerson, other }] = await manager.query(
      `SELECT count(*) FILTER (WHERE message.status = 'replied')::int AS replied,
              count(*) FILTER (WHERE message.status = 'skipped' AND conversation.status = 'handoff'
                                 AND conversation.handoff_reason = 'provider_failure')::int AS "leftToPerson",
              count(*) FILTER (WHERE message.status NOT IN ('replied', 'skipped'))::int AS other
       FROM messages message JOIN conversations conversation ON conversation.id = message.conversation_id
       WHERE message.direction = 'inbound'`,
    );
    expect({ settled: replied + leftToPerson, other }).toEqual({ settled: MESSAGES, other: 0 });

    const interactions: Array<{ id: string; provider: string }> = await manager.query('SELECT id, provider FROM agent_interactions');
    expect(interactions).toHaveLength(replied);
    // Each handoff follows an offline answer after failures: one per conversation at most.
    const [{ handoffs }] = await manager.query(
      `SELECT count(*)::int AS handoffs FROM conversations WHERE handoff_reason = 'provider_failure'`,
    );
    expect(handoffs).toBeLessThanOrEqual(CONVERSATIONS);

    // The deadline, on each reply's own clock: once it has passed no model call starts and no wait begins that
    // would end past it (only the offline answerer, which runs locally, may still answer).
    expect(timelines.all.length).toBeGreaterThanOrEqual(replied);
    const lateCalls = timelines.all.flatMap((timeline) => timeline.calls.filter((call) => call.startedAt >= DEADLINE_MS));
    expect(lateCalls).toEqual([]);
    const lateWaits = timelines.all.flatMap((timeline) =>
      timeline.waits.filter((wait) => wait.startedAt + wait.milliseconds >= DEADLINE_MS),
    );
    expect(lateWaits).toEqual([]);

    // Every call the engine made has its usage row; a call aborted before its request reached the fake has no request.
    const calls = timelines.all.reduce((total, timeline) => total + timeline.calls.length, 0);
    const [{ attempts }] = await manager.query(
      `SELECT count(*)::int AS attempts FROM provider_usage WHERE provider IN ('openai', 'gemini')`,
    );
    expect(attempts).toBe(calls);
    expect(openai.book.requests.length + gemini.book.requests.length).toBeLessThanOrEqual(attempts);
    const [{ failed }] = await manager.query(`SELECT count(*)::int AS failed FROM provider_usage WHERE NOT success`);
    expect(failed).toBeGreaterThan(0);
    // Exactly one successful attempt per reply, and it is the model the interaction names.
    const mismatched = await manager.query(
      `SELECT interaction.id FROM agent_interactions interaction
       LEFT JOIN provider_usage usage ON usage.agent_interaction_id = interaction.id AND usage.success
       GROUP BY interaction.id, interaction.provider, interaction.model
       HAVING count(usage.id) <> 1 OR bool_or(usage.provider <> interaction.provider OR usage.model <> interaction.model)`,
    );
    expect(mismatched).toEqual([]);
    const byProvider: Record<string, number> = {};
    for (const interaction of interactions) byProvider[interaction.provider] = (byProvider[interaction.provider] ?? 0) + 1;
    // Real models answered too (how many depends on breakers opening under 30% failures, and on machine load).
    expect((byProvider.openai ?? 0) + (byProvider.gemini ?? 0)).toBeGreaterThan(0);
  }, 600_000);
});

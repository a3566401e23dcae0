/**
 * Reply capacity: turns waiting on a slow model hold no database connection and run side by side within
 * INBOX_CONCURRENCY; one tenant's backlog fills only its share of the slots, so another tenant's new message is
 * answered at once; a provider's 429 slows only the tenant whose key it was.
 */
import crypto from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { poolOf } from '../../src/db/data-source';
import type { ReplyGenerator, ReplyOutcome, ReplyRequest } from '../../src/llm/reply-generator';
import { emptyUsage } from '../../src/llm/types';
import { startFakeOpenAI } from '../fakes/openai-server';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';

/** A model stand-in that holds every call until the test releases it, and tells who is waiting. */
function heldReplies() {
  const waiting: Array<{ request: ReplyRequest; release: () => void }> = [];
  const listeners: Array<() => void> = [];
  const generator: ReplyGenerator = {
    async generate(request): Promise<ReplyOutcome> {
      await new Promise<void>((release) => {
        waiting.push({ request, release });
        for (const listener of listeners.splice(0)) listener();
      });
      return {
        text: 'ok',
        finishReason: 'stop',
        usage: emptyUsage(),
        provider: 'test',
        model: 'held',
        latencyMs: 0,
        routing: null,
        learning: null,
        attempts: 1,
      };
    },
  };
  /** Resolves once `count` calls are waiting (or fails after `timeoutMs`: the calls never came). */
  const untilWaiting = (count: number, timeoutMs = 90_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${waiting.length} of ${count} calls reached the model`)), timeoutMs);
      const check = () => {
        if (waiting.length >= count) {
          clearTimeout(timer);
          resolve();
        } else listeners.push(check);
      };
      check();
    });
  const releaseAll = () => {
    for (const call of waiting.splice(0)) call.release();
  };
  return { generator, waiting, untilWaiting, releaseAll };
}

let context: TestContext | undefined;
afterEach(async () => {
  await context?.close();
  context = undefined;
});

const customer = (index: number) => `whatsapp:+1555200${String(index).padStart(4, '0')}`;

async function send(shop: TenantFixture, count: number, first = 0): Promise<void> {
  for (let index = first; index < first + count; index += 1) {
    await postInbound(context!, shop, inboundParams(shop, { From: customer(index), Body: `question ${index}` })).expect(200);
  }
}

describe('reply capacity', () => {
  it('runs more turns than there are database connections, none holding one while the model thinks', async () => {
    const model = heldReplies();
    context = await createTestContext({ replies: model.generator });
    const shop = await createTenant(context);
    await send(shop, 40);
    const pool = poolOf(context.database.dataSource);
    const drained = context.services.processor.drain();
    await model.untilWaiting(40);
    // 40 turns wait on the model at once with a pool of 5 connections: all of them idle.
    expect(pool.options.max).toBeLessThan(40);
    expect(pool.totalCount - pool.idleCount).toBe(0);
    model.releaseAll();
    await drained;
    const [{ replied }] = await context.database.dataSource.query(`SELECT count(*)::int AS replied FROM messages WHERE status = 'replied'`);
    expect(replied).toBe(40);
    // 40 turns end to end: seconds on a quiet machine, more than the default 30 s on a loaded one.
  }, 120_000);

  it('keeps turns in flight within INBOX_CONCURRENCY and one tenant within its share, leaving room for another tenant', async () => {
    const model = heldReplies();
    context = await createTestContext({ replies: model.generator, environment: { INBOX_CONCURRENCY: '8', INBOX_TENANT_SHARE: '0.5' } });
    const busy = await createTenant(context);
    const quiet = await createTenant(context);
    await send(busy, 20);
    const processor = context.services.processor;
    processor.start();
    await model.untilWaiting(4);
    // More claim rounds change nothing: the busy tenant holds its share (4 of 8) and waits.
    await processor.tick();
    await processor.tick();
    expect(model.waiting).toHaveLength(4);
    expect(new Set(model.waiting.map((call) => call.request.tenantId))).toEqual(new Set([busy.tenant.id]));
    // The quiet tenant's customer writes: answered at once, not after the busy tenant's 20.
    await postInbound(context, quiet, inboundParams(quiet, { From: customer(999), Body: 'Are you open today?' })).expect(200);
    await model.untilWaiting(5);
    expect(model.waiting.filter((call) => call.request.tenantId === quiet.tenant.id)).toHaveLength(1);
    model.releaseAll();
    await processor.stop();
  });

  it("claims a quiet tenant's woken conversation in the next round, however many wakes another tenant's burst left", async () => {
    // A poll interval longer than the test: every round below is started by a wake, none by the poll.
    context = await createTestContext({ environment: { INBOX_POLL_INTERVAL_MS: '600000' } });
    const queue = context.services.queue;
    const rounds: string[][] = [];
    const claimConversations = queue.claimConversations.bind(queue);
    queue.claimConversations = (conversationIds) => {
      if (conversationIds.length > 0) rounds.push([...conversationIds]);
      return claimConversations(conversationIds);
    };
    const processor = context.services.processor;
    processor.start();
    try {
      // A campaign's 200 answers are stored and woken, then one message of another tenant (none of them has work in
      // the database: only what the rounds ask for is looked at).
      const burst = Array.from({ length: 200 }, () => crypto.randomUUID());
      for (const conversationId of burst) processor.wake({ conversationId, tenantId: 'busy-tenant' });
      const quiet = crypto.randomUUID();
      processor.wake({ conversationId: quiet, tenantId: 'quiet-tenant' });
      await expect.poll(() => rounds.flat().length, { interval: 5 }).toBe(201);
      // First come first served, it would have been the 201st asked for, in the fourth round; one tenant in turn, it
      // is the second, in the first. Rounds stay short, and follow one another without waiting for the poll.
      expect(rounds[0].indexOf(quiet)).toBe(1);
      expect(Math.max(...rounds.map((round) => round.length))).toBeLessThanOrEqual(64);
      expect(new Set(rounds.flat())).toEqual(new Set([...burst, quiet]));
    } finally {
      await processor.stop();
      queue.claimConversations = claimConversations;
    }
  });

  it('asks for the woken conversations before the backstops, and runs each backstop once per poll interval', async () => {
    // A poll interval longer than the test: rounds after the first are started by wakes alone.
    context = await createTestContext({ environment: { INBOX_POLL_INTERVAL_MS: '600000' } });
    const { queue, sender, processor } = context.services;
    const calls: string[] = [];
    const originals = {
      claimConversations: queue.claimConversations,
      claimInbound: queue.claimInbound,
      sendLeftovers: sender.sendLeftovers,
    };
    queue.claimConversations = (conversationIds) => {
      if (conversationIds.length > 0) calls.push('woken');
      return originals.claimConversations.call(queue, conversationIds);
    };
    queue.claimInbound = (limit) => {
      calls.push('round robin');
      return originals.claimInbound.call(queue, limit);
    };
    sender.sendLeftovers = (batch) => {
      calls.push('sweep');
      return originals.sendLeftovers.call(sender, batch);
    };
    processor.start();
    try {
      // 200 wakes take four rounds of at most 64.
      for (let index = 0; index < 200; index += 1) processor.wake({ conversationId: crypto.randomUUID(), tenantId: 'busy-tenant' });
      await expect.poll(() => calls.filter((call) => call === 'woken').length, { interval: 5 }).toBe(4);
      // Over a large backlog each backstop is a slow statement, and a claim for another tenant's woken conversation
      // would wait for it: the first round asks for the woken conversations first, and no later round repeats them.
      expect(calls).toEqual(['woken', 'sweep', 'round robin', 'woken', 'woken', 'woken']);
    } finally {
      await processor.stop();
      Object.assign(queue, { claimConversations: originals.claimConversations, claimInbound: originals.claimInbound });
      sender.sendLeftovers = originals.sendLeftovers;
    }
  });

  it('slows only the tenant whose key a provider rate-limited', async () => {
    const openai = await startFakeOpenAI();
    try {
      openai.book.retryAfterSeconds = 30;
      openai.book.fail('rate_limit', { apiKey: 'sk-tenant-a', times: 1 });
      context = await createTestContext({ environment: { OUTBOUND_ALLOWED_HOSTS: new URL(openai.baseUrl).host } });
      // Every tier on OpenAI models, a short deadline: the rate-limited tenant's reply comes from the offline answerer.
      const llm = {
        openaiBaseUrl: openai.baseUrl,
        enabledProviders: ['openai'],
        deadlineMs: 1_500,
        tiers: {
          cheap: [
            { provider: 'openai', model: 'gpt-4o-mini' },
            { provider: 'openai', model: 'gpt-4.1' },
          ],
        },
      };
      const tenantA = await createTenant(context, { credentials: { openaiApiKey: 'sk-tenant-a' }, settings: { llm } });
      const tenantB = await createTenant(context, { credentials: { openaiApiKey: 'sk-tenant-b' }, settings: { llm } });
      await postInbound(context, tenantA, inboundParams(tenantA, { From: customer(1), Body: 'Hello' })).expect(200);
      await context.services.processor.drain();
      await postInbound(context, tenantB, inboundParams(tenantB, { From: customer(2), Body: 'Hello' })).expect(200);
      await postInbound(context, tenantA, inboundParams(tenantA, { From: customer(3), Body: 'Hello again' })).expect(200);
      await context.services.processor.drain();
      const keys = openai.book.requests.map((request) => String(request.headers.authorization).replace('Bearer ', ''));
      // One call with tenant A's key (the 429); its pause kept every later call with that key from being made.
      expect(keys.filter((key) => key === 'sk-tenant-a')).toHaveLength(1);
      expect(keys.filter((key) => key === 'sk-tenant-b')).toHaveLength(1);
      const answered: Array<{ tenant_id: string; provider: string; routing: { attempts: Array<{ outcome: string }> } }> =
        await context.database.dataSource.query('SELECT tenant_id, provider, routing FROM agent_interactions ORDER BY created_at');
      const byTenant = (id: string) => answered.filter((row) => row.tenant_id === id);
      expect(byTenant(tenantB.tenant.id).map((row) => row.provider)).toEqual(['openai']);
      expect(byTenant(tenantA.tenant.id).map((row) => row.provider)).toEqual(['offline', 'offline']);
      expect(byTenant(tenantA.tenant.id)[1].routing.attempts.map((attempt) => attempt.outcome)).toContain('skipped_rate_limited');
    } finally {
      await openai.close();
    }
  });
});

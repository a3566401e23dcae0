import crypto from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderUsage } from '../../src/db/entities/provider-usage';
import { CircuitBreaker } from '../../src/llm/circuit-breaker';
import { type Database, openDatabase } from '../../src/db/data-source';
import { ProviderRegistry } from '../../src/llm/provider-registry';
import { createReplyGenerator, type ReplyOutcome } from '../../src/llm/reply-generator';
import { resolveRoutingPolicy } from '../../src/llm/routing-policy';
import { ProviderUsageRecorder } from '../../src/tracking/provider-usage-recorder';
import type { ChatMessage, LanguageModelProvider } from '../../src/llm/types';
import { SafeHttpClient } from '../../src/net/safe-http';
import { type FakeGeminiServer, startFakeGemini } from '../fakes/gemini-server';
import type { LlmFault } from '../fakes/llm-faults';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server';
import { seededRandom } from '../support/seeded-random';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { letBreakerTimePass } from './breaker-time';
import { insertTenant } from './factories';

let database: TestDatabase;
let openai: FakeOpenAIServer;
let gemini: FakeGeminiServer;
let tenantId: string;
let slept: number[];
/** The tenant base URLs below point at the fakes: this file opts in to them, by host and port, explicitly. */
let tenantHttp: SafeHttpClient;
const tenantRegistry = () => new ProviderRegistry({ openai: {}, gemini: {} }, {}, tenantHttp);
const jitter = seededRandom('failover backoff jitter');

const GPT_4O = { provider: 'openai', model: 'gpt-4o' };
const FLASH = { provider: 'gemini', model: 'gemini-2.0-flash' };
const credentials = { twilioAuthToken: 'unused', openaiApiKey: 'sk-fake', geminiApiKey: 'g-fake' };

beforeAll(async () => {
  [database, openai, gemini] = await Promise.all([createTestDatabase(), startFakeOpenAI(), startFakeGemini()]);
  tenantHttp = new SafeHttpClient({ requireHttps: false, allowedHosts: [new URL(openai.url).host, new URL(gemini.url).host] });
  // Warm both SDKs (lazy initialisation, first connection) so the short attempt timeouts below measure the
  // fakes' behaviour, not a cold start on a loaded machine.
  slept = [];
  tenantId = (await insertTenant(database.dataSource.manager)).id;
  await reply({ chain: [GPT_4O], llm: { attemptTimeoutMs: 10_000 } });
  await reply({ chain: [FLASH], llm: { attemptTimeoutMs: 10_000 } });
});
afterAll(async () => {
  await Promise.all([database.close(), openai.close(), gemini.close(), tenantHttp.close()]);
});
beforeEach(async () => {
  await database.truncateAll();
  openai.book.reset();
  gemini.book.reset();
  slept = [];
  tenantId = (await insertTenant(database.dataSource.manager)).id;
});

interface ReplyRun {
  outcome: ReplyOutcome;
  rows: ProviderUsage[];
  interactionId: string;
}

/** Every tier served by the chain's first model, then the rest as the fallback order: the router tries exactly `chain`. */
function exactChain(chain: Array<{ provider: string; model: string }>): Record<string, unknown> {
  const head = [chain[0]];
  return { tiers: { cheap: head, balanced: head, reasoning: head, longContext: head }, fallbackOrder: chain.slice(1) };
}

/** One reply through the real generator, SDKs and fake servers; the chain is openai/gpt-4o then gemini flash unless given. */
async function reply(
  options: {
    chain?: Array<{ provider: string; model: string }>;
    llm?: Record<string, unknown>;
    registry?: ProviderRegistry;
    breaker?: CircuitBreaker;
    text?: string;
    images?: ChatMessage['images'];
  } = {},
): Promise<ReplyRun> {
  const manager = database.dataSource.manager;
  const generator = createReplyGenerator({
    config: { openai: {}, gemini: {} },
    manager,
    usage: new ProviderUsageRecorder(manager),
    registry: options.registry ?? tenantRegistry(),
    breaker: options.breaker ?? new CircuitBreaker(manager, { refreshMs: 0 }),
    sleep: async (milliseconds) => {
      slept.push(milliseconds);
    },
    random: jitter,
  });
  const interactionId = crypto.randomUUID();
  const outcome = await generator.generate({
    tenantId,
    tenantSettings: {
      llm: {
        openaiBaseUrl: openai.baseUrl,
        geminiBaseUrl: gemini.baseUrl,
        ...exactChain(options.chain ?? [GPT_4O, FLASH]),
        attemptTimeoutMs: 300,
        deadlineMs: 10_000,
        ...options.llm,
      },
    },
    credentials,
    conversationId: crypto.randomUUID(),
    interactionId,
    messages: [
      { role: 'system', content: 'You are a shop assistant.' },
      { role: 'user', content: options.text ?? 'Where is my order?', ...(options.images ? { images: options.images } : {}) },
    ],
    knowledge: [],
  });
  const rows = await manager.find(ProviderUsage, { where: { agentInteractionId: interactionId }, order: { attemptNumber: 'ASC' } });
  return { outcome, rows, interactionId };
}

const path = (rows: ProviderUsage[]) => rows.map((row) => `${row.model}:${row.success ? 'ok' : row.errorKind}`);

describe('failover through the real SDKs against the fake servers', () => {
  it('answers from the routed model in one attempt and records one usage row with exact cost', async () => {
    openai.book.answer = () => ({ text: 'It ships today.', usage: { input: 1000, cached: 400, output: 100 } });
    const { outcome, rows } = await reply();
    expect(outcome).toMatchObject({ text: 'It ships today.', provider: 'openai', model: 'gpt-4o', attempts: 1 });
    expect(rows).toHaveLength(1);
    // 600 x $2.50 + 400 x $1.25 + 100 x $10 per million = $0.003
    expect(rows[0]).toMatchObject({
      success: true,
      wasFailover: false,
      attemptNumber: 1,
      inputTokens: 1000,
      cachedInputTokens: 400,
      outputTokens: 100,
      costUsd: '0.003000000000',
      finishReason: 'stop',
    });
    expect(rows[0].routingReason).toEqual(expect.any(String));
    expect(outcome.routing).toMatchObject({ provider: 'openai', model: 'gpt-4o', answeredBy: GPT_4O });
  });

  const matrix: Array<{ fault: LlmFault; times: number; expectedPath: string[]; answeredBy: string }> = [
    { fault: 'server_error', times: 1, expectedPath: ['gpt-4o:server', 'gpt-4o:ok'], answeredBy: 'gpt-4o' },
    {
      fault: 'server_error',
      times: Infinity,
      expectedPath: ['gpt-4o:server', 'gpt-4o:server', 'gemini-2.0-flash:ok'],
      answeredBy: 'gemini-2.0-flash',
    },
    { fault: 'unavailable', times: 1, expectedPath: ['gpt-4o:server', 'gpt-4o:ok'], answeredBy: 'gpt-4o' },
    { fault: 'rate_limit', times: 1, expectedPath: ['gpt-4o:rate_limit', 'gpt-4o:ok'], answeredBy: 'gpt-4o' },
    {
      fault: 'hang',
      times: Infinity,
      expectedPath: ['gpt-4o:timeout', 'gpt-4o:timeout', 'gemini-2.0-flash:ok'],
      answeredBy: 'gemini-2.0-flash',
    },
    {
      fault: 'reset',
      times: Infinity,
      expectedPath: ['gpt-4o:network', 'gpt-4o:network', 'gemini-2.0-flash:ok'],
      answeredBy: 'gemini-2.0-flash',
    },
    { fault: 'malformed_json', times: 1, expectedPath: ['gpt-4o:server', 'gpt-4o:ok'], answeredBy: 'gpt-4o' },
    {
      fault: 'empty',
      times: Infinity,
      expectedPath: ['gpt-4o:server', 'gpt-4o:server', 'gemini-2.0-flash:ok'],
      answeredBy: 'gemini-2.0-flash',
    },
    { fault: 'safety', times: Infinity, expectedPath: ['gpt-4o:content_filter', 'gemini-2.0-flash:ok'], answeredBy: 'gemini-2.0-flash' },
    {
      fault: 'context_length',
      times: Infinity,
      expectedPath: ['gpt-4o:context_length', 'gemini-2.0-flash:ok'],
      answeredBy: 'gemini-2.0-flash',
    },
    { fault: 'unauthorized', times: Infinity, expectedPath: ['gpt-4o:auth', 'gemini-2.0-flash:ok'], answeredBy: 'gemini-2.0-flash' },
  ];
  it.each(matrix)('OpenAI $fault x$times: $expectedPath', async ({ fault, times, expectedPath, answeredBy }) => {
    openai.book.fail(fault, { times });
    const { outcome, rows } = await reply();
    expect(path(rows)).toEqual(expectedPath);
    expect(outcome.model).toBe(answeredBy);
    expect(outcome.text).toBe('echo: Where is my order?');
    expect(outcome.attempts).toBe(expectedPath.length);
    expect(rows.map((row) => row.attemptNumber)).toEqual(expectedPath.map((_step, index) => index + 1));
    expect(rows.map((row) => row.wasFailover)).toEqual(rows.map((row) => row.model !== 'gpt-4o'));
    for (const row of rows) expect(row.latencyMs).toBeGreaterThanOrEqual(0);
  });

  const geminiMatrix: Array<{ fault: LlmFault; times: number; expectedPath: string[] }> = [
    { fault: 'server_error', times: Infinity, expectedPath: ['gemini-2.0-flash:server', 'gemini-2.0-flash:server', 'gpt-4o:ok'] },
    { fault: 'unavailable', times: 1, expectedPath: ['gemini-2.0-flash:server', 'gemini-2.0-flash:ok'] },
    { fault: 'rate_limit', times: 1, expectedPath: ['gemini-2.0-flash:rate_limit', 'gemini-2.0-flash:ok'] },
    { fault: 'hang', times: Infinity, expectedPath: ['gemini-2.0-flash:timeout', 'gemini-2.0-flash:timeout', 'gpt-4o:ok'] },
    { fault: 'reset', times: 1, expectedPath: ['gemini-2.0-flash:network', 'gemini-2.0-flash:ok'] },
    { fault: 'malformed_json', times: Infinity, expectedPath: ['gemini-2.0-flash:server', 'gemini-2.0-flash:server', 'gpt-4o:ok'] },
    { fault: 'empty', times: 1, expectedPath: ['gemini-2.0-flash:server', 'gemini-2.0-flash:ok'] },
    { fault: 'safety', times: Infinity, expectedPath: ['gemini-2.0-flash:content_filter', 'gpt-4o:ok'] },
    { fault: 'unauthorized', times: Infinity, expectedPath: ['gemini-2.0-flash:auth', 'gpt-4o:ok'] },
  ];
  it.each(geminiMatrix)('Gemini $fault x$times: $expectedPath', async ({ fault, times, expectedPath }) => {
    gemini.book.fail(fault, { times });
    const { outcome, rows } = await reply({ chain: [FLASH, GPT_4O] });
    expect(path(rows)).toEqual(expectedPath);
    expect(outcome.text).toBe('echo: Where is my order?');
    expect(outcome.model).toBe(expectedPath.at(-1)!.split(':')[0]);
  });

  it('keeps the safety ratings of a blocked Gemini answer in the usage row', async () => {
    gemini.book.fail('safety');
    const { rows } = await reply({ chain: [FLASH, GPT_4O] });
    expect(rows[0].metadata).toMatchObject({ safetyRatings: expect.arrayContaining([expect.objectContaining({ probability: 'HIGH' })]) });
  });

  it('waits the Retry-After of a 429 before retrying', async () => {
    openai.book.retryAfterSeconds = 2;
    openai.book.fail('rate_limit');
    const { rows } = await reply();
    expect(slept).toEqual([2000]);
    expect(rows[0].metadata).toMatchObject({ retryAfterMs: 2000 });
  });

  it('moves to the next model instead of waiting a Retry-After beyond the cap', async () => {
    openai.book.retryAfterSeconds = 120;
    openai.book.fail('rate_limit');
    const { rows } = await reply();
    expect(slept).toEqual([]);
    expect(path(rows)).toEqual(['gpt-4o:rate_limit', 'gemini-2.0-flash:ok']);
  });

  it('backs off with jitter between retries of a server error', async () => {
    openai.book.fail('server_error');
    await reply();
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThanOrEqual(0);
    expect(slept[0]).toBeLessThanOrEqual(250);
  });

  it('moves to a larger-window model after a context-length error, skipping smaller ones', async () => {
    openai.book.fail('context_length', { model: 'gpt-4o' });
    const { rows } = await reply({
      chain: [GPT_4O, { provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'openai', model: 'gpt-4.1' }],
    });
    expect(path(rows)).toEqual(['gpt-4o:context_length', 'gpt-4.1:ok']);
  });

  it('after a context-length error on a turn with a photo, moves only to a larger model that can see it', async () => {
    // A tenant model with the widest window and no vision: a text turn escalates to it, a photo turn may not.
    const blind = {
      provider: 'openai',
      model: 'blind-long',
      contextWindow: 5_000_000,
      maxOutputTokens: 1000,
      pricing: { input: '0.10', cachedInput: '0.05', output: '0.40' },
      capabilities: { vision: false },
    };
    const photo = [{ mediaType: 'image/jpeg', data: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) }];
    openai.book.fail('context_length', { model: 'gpt-4o', times: 2 });
    const text = await reply({ chain: [GPT_4O], llm: { models: [blind] } });
    expect(path(text.rows)).toEqual(['gpt-4o:context_length', 'blind-long:ok']);
    const withPhoto = await reply({ chain: [GPT_4O], llm: { models: [blind] }, images: photo });
    expect(path(withPhoto.rows)).toEqual(['gpt-4o:context_length', 'gemini-1.5-pro:ok']);
  });

  it('answers offline when every provider fails, recording every attempt', async () => {
    openai.book.fail('unavailable', { times: Infinity });
    gemini.book.fail('unauthorized', { times: Infinity });
    const { outcome, rows } = await reply();
    expect(outcome).toMatchObject({ provider: 'offline', model: 'offline-v1' });
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(path(rows)).toEqual(['gpt-4o:server', 'gpt-4o:server', 'gemini-2.0-flash:auth', 'offline-v1:ok']);
    expect(rows.at(-1)).toMatchObject({ costUsd: '0.000000000000', wasFailover: true });
  });

  it('enforces the overall deadline: after it, only the offline model is asked', async () => {
    openai.book.fail('hang', { times: Infinity });
    const { outcome, rows } = await reply({ llm: { attemptTimeoutMs: 5_000, deadlineMs: 400 } });
    expect(path(rows)).toEqual(['gpt-4o:timeout', 'offline-v1:ok']);
    expect(outcome.routing?.attempts).toContainEqual({ model: 'gemini/gemini-2.0-flash', outcome: 'skipped_deadline' });
    expect(gemini.book.requests).toHaveLength(0);
  });

  it('times out an adapter that ignores its abort signal', async () => {
    const deaf: LanguageModelProvider = { id: 'openai', generate: () => new Promise(() => undefined) };
    const registry = new ProviderRegistry({ openai: {}, gemini: {} }, { openai: deaf }, tenantHttp);
    const { rows, outcome } = await reply({ registry, llm: { maxRetriesPerModel: 0 } });
    expect(path(rows)).toEqual(['gpt-4o:timeout', 'gemini-2.0-flash:ok']);
    expect(outcome.model).toBe('gemini-2.0-flash');
  });

  it('opens the breaker after repeated failures and then skips the model without calling it', async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, { refreshMs: 0, cooldownMs: 60_000 });
    openai.book.fail('unavailable', { times: Infinity });
    await reply({ breaker }); // two failures
    await reply({ breaker }); // third failure opens it
    const callsBefore = openai.book.requests.length;
    const { rows, outcome } = await reply({ breaker });
    expect(openai.book.requests.length).toBe(callsBefore);
    expect(path(rows)).toEqual(['gemini-2.0-flash:ok']);
    expect(outcome.routing).toMatchObject({ skipped: [{ model: 'openai/gpt-4o', why: 'breaker_open' }] });
  });

  it('does not send temperature to a reasoning model but does to others', async () => {
    await reply({ chain: [{ provider: 'openai', model: 'o3-mini' }] });
    await reply();
    expect(openai.book.requests[0].body).not.toHaveProperty('temperature');
    expect(openai.book.requests[1].body).toHaveProperty('temperature', 0.3);
  });

  it('uses no provider whose key is missing', async () => {
    const manager = database.dataSource.manager;
    const generator = createReplyGenerator({
      config: { openai: {}, gemini: {} },
      manager,
      usage: new ProviderUsageRecorder(manager),
      registry: tenantRegistry(),
      breaker: new CircuitBreaker(manager, { refreshMs: 0 }),
    });
    const outcome = await generator.generate({
      tenantId,
      tenantSettings: { llm: { geminiBaseUrl: gemini.baseUrl } },
      credentials: { twilioAuthToken: 'unused', geminiApiKey: 'g-only' },
      conversationId: crypto.randomUUID(),
      interactionId: crypto.randomUUID(),
      messages: [{ role: 'user', content: "My order #48213 still hasn't arrived and it has been 10 days. Can you check?" }],
      knowledge: [],
    });
    expect(outcome.provider).toBe('gemini');
    expect(openai.book.requests).toHaveLength(0);
  });
});

describe('budget and probes', () => {
  it('routes a tenant over its monthly budget to the cheap tier', async () => {
    const manager = database.dataSource.manager;
    await manager.query(
      `INSERT INTO provider_usage (tenant_id, provider, model, cost_usd, latency_ms, success, attempt_number) VALUES ($1, 'openai', 'gpt-4o', '12.500000000000', 10, true, 1)`,
      [tenantId],
    );
    const text = 'Write a Python function that parses the CSV export of my orders and sums the totals per month, step by step.';
    const defaultTiers = { tiers: undefined, fallbackOrder: undefined, quality: 1 };
    const within = await reply({ text, llm: { ...defaultTiers, monthlyBudgetUsd: '20' } });
    expect(within.outcome.routing).toMatchObject({ tier: 'balanced' });
    const over = await reply({ text, llm: { ...defaultTiers, monthlyBudgetUsd: '10' } });
    expect(over.outcome.routing).toMatchObject({ tier: 'cheap', reason: 'monthly budget exceeded' });
  });

  it('makes a single call as the half-open probe, and reopens the breaker when it fails', async () => {
    const breaker = new CircuitBreaker(database.dataSource.manager, { refreshMs: 0 });
    openai.book.fail('unavailable', { times: Infinity });
    await reply({ breaker });
    await reply({ breaker }); // opens
    await letBreakerTimePass(database.dataSource.manager, breaker.options.cooldownMs + 1);
    const { rows } = await reply({ breaker });
    expect(path(rows)).toEqual(['gpt-4o:server', 'gemini-2.0-flash:ok']);
    // The breaker of gpt-4o with the credential the replies used: the tenant's key at its own base URL.
    const policy = resolveRoutingPolicy({ llm: { openaiBaseUrl: openai.baseUrl } });
    const credential = tenantRegistry().forTenant(credentials, policy, tenantId).credential('openai');
    if (!credential) throw new Error('the registry offers no openai provider');
    expect(rows[0].credentialFingerprint).toBe(credential.fingerprint);
    expect(breaker.isOpen({ ...GPT_4O, credential })).toBe(true);
  });
});

describe('OpenAI-compatible providers as configuration', () => {
  it('routes to a tenant-configured endpoint (e.g. a local Ollama) with its own models and no key', async () => {
    const { outcome, rows } = await reply({
      chain: [{ provider: 'ollama', model: 'llama3.1' }],
      llm: {
        compatibleProviders: [{ id: 'ollama', baseUrl: openai.baseUrl, requiresKey: false }],
        models: [
          {
            provider: 'ollama',
            model: 'llama3.1',
            contextWindow: 8192,
            maxOutputTokens: 2048,
            pricing: { input: '0', cachedInput: '0', output: '0' },
          },
        ],
      },
    });
    expect(outcome).toMatchObject({ provider: 'ollama', model: 'llama3.1', text: 'echo: Where is my order?' });
    expect(rows).toMatchObject([{ provider: 'ollama', model: 'llama3.1', success: true, costUsd: '0.000000000000' }]);
    expect(openai.book.requests[0].model).toBe('llama3.1');
  });

  it('skips a compatible provider that needs a key the tenant does not have', async () => {
    const { outcome } = await reply({
      chain: [{ provider: 'vllm', model: 'qwen' }, GPT_4O],
      llm: {
        compatibleProviders: [{ id: 'vllm', baseUrl: openai.baseUrl }],
        models: [
          {
            provider: 'vllm',
            model: 'qwen',
            contextWindow: 32_000,
            maxOutputTokens: 2048,
            pricing: { input: '0', cachedInput: '0', output: '0' },
          },
        ],
      },
    });
    expect(outcome.model).toBe('gpt-4o');
    expect(outcome.routing).toMatchObject({ skipped: [{ model: 'vllm/qwen', why: 'provider_unavailable' }] });
  });
});

describe('breakers per credential', () => {
  const manager = () => database.dataSource.manager;
  /** Replies for a tenant through the platform base URLs (the fakes), with its own keys or the platform's. */
  async function replyFor(
    tenant: string,
    options: { registry: ProviderRegistry; breaker: CircuitBreaker; credentials?: Record<string, string>; llm?: Record<string, unknown> },
  ): Promise<ReplyRun> {
    const generator = createReplyGenerator({
      config: { openai: {}, gemini: {} },
      manager: manager(),
      usage: new ProviderUsageRecorder(manager()),
      registry: options.registry,
      breaker: options.breaker,
      sleep: async (milliseconds) => {
        slept.push(milliseconds);
      },
      random: jitter,
    });
    const interactionId = crypto.randomUUID();
    const outcome = await generator.generate({
      tenantId: tenant,
      tenantSettings: { llm: { ...exactChain([GPT_4O, FLASH]), attemptTimeoutMs: 2_000, deadlineMs: 10_000, ...options.llm } },
      credentials: { twilioAuthToken: 'unused', ...options.credentials },
      conversationId: crypto.randomUUID(),
      interactionId,
      messages: [{ role: 'user', content: 'Where is my order?' }],
      knowledge: [],
    });
    const rows = await manager().find(ProviderUsage, { where: { agentInteractionId: interactionId }, order: { attemptNumber: 'ASC' } });
    return { outcome, rows, interactionId };
  }
  const keysSeen = () => openai.book.requests.map((request) => request.headers.authorization);

  it("two tenants with their own keys on one model: A's 401s open A's breaker only, and B keeps being served by it", async () => {
    const registry = new ProviderRegistry(
      { openai: { baseUrl: openai.baseUrl }, gemini: { apiKey: 'g-platform', baseUrl: gemini.baseUrl } },
      {},
      tenantHttp,
    );
    const breaker = new CircuitBreaker(manager(), { refreshMs: 0 });
    const tenantB = (await insertTenant(manager())).id;
    openai.book.fail('unauthorized', { apiKey: 'sk-tenant-a', times: Infinity });
    for (let index = 0; index < 3; index += 1) {
      const { rows } = await replyFor(tenantId, { registry, breaker, credentials: { openaiApiKey: 'sk-tenant-a' } });
      expect(path(rows)).toEqual(['gpt-4o:auth', 'gemini-2.0-flash:ok']);
    }
    const callsBefore = openai.book.requests.length;
    const skipped = await replyFor(tenantId, { registry, breaker, credentials: { openaiApiKey: 'sk-tenant-a' } });
    expect(path(skipped.rows)).toEqual(['gemini-2.0-flash:ok']);
    expect(skipped.outcome.routing).toMatchObject({ skipped: [{ model: 'openai/gpt-4o', why: 'breaker_open' }] });
    expect(openai.book.requests.length).toBe(callsBefore);

    const served = await replyFor(tenantB, { registry, breaker, credentials: { openaiApiKey: 'sk-tenant-b' } });
    expect(path(served.rows)).toEqual(['gpt-4o:ok']);
    expect(served.outcome.model).toBe('gpt-4o');
    expect(keysSeen().at(-1)).toBe('Bearer sk-tenant-b');
    expect(served.rows[0].credentialFingerprint).not.toBe(skipped.rows[0].credentialFingerprint);
  });

  it("tenants on the platform key share one breaker, across instances: A's failures open it for B", async () => {
    let other: Database | undefined;
    try {
      other = await openDatabase({ url: database.connectionUrl, poolSize: 2 });
      const environment = {
        openai: { apiKey: 'sk-platform', baseUrl: openai.baseUrl },
        gemini: { apiKey: 'g-platform', baseUrl: gemini.baseUrl },
      };
      const firstInstance = {
        registry: new ProviderRegistry(environment, {}, tenantHttp),
        breaker: new CircuitBreaker(manager(), { refreshMs: 0 }),
      };
      const secondInstance = {
        registry: new ProviderRegistry(environment, {}, tenantHttp),
        breaker: new CircuitBreaker(other.dataSource.manager, { refreshMs: 0 }),
      };
      const tenantB = (await insertTenant(manager())).id;
      openai.book.fail('unavailable', { times: Infinity });
      const first = await replyFor(tenantId, firstInstance);
      await replyFor(tenantId, firstInstance); // the third failure in a row opens the platform's gpt-4o breaker
      const callsBefore = openai.book.requests.length;
      const { rows, outcome } = await replyFor(tenantB, secondInstance);
      expect(openai.book.requests.length).toBe(callsBefore);
      expect(path(rows)).toEqual(['gemini-2.0-flash:ok']);
      expect(outcome.routing).toMatchObject({ skipped: [{ model: 'openai/gpt-4o', why: 'breaker_open' }] });
      // One credential for every tenant on the platform key, recorded on each attempt; its breaker belongs to no tenant.
      const fingerprints = await manager().query(`SELECT DISTINCT credential_fingerprint FROM provider_usage WHERE provider = 'openai'`);
      expect(fingerprints).toEqual([{ credential_fingerprint: first.rows[0].credentialFingerprint }]);
      expect(await manager().query(`SELECT tenant_id, state FROM llm_circuit_breakers`)).toEqual([{ tenant_id: null, state: 'open' }]);
    } finally {
      await other?.close();
    }
  });

  it('does not retry a call the outbound guard refuses, nor count it toward the breaker', async () => {
    // The tenant's host name passes every check made on the name; it resolves to loopback, refused at connect time.
    const resolvesInside = new SafeHttpClient({ requireHttps: false, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    try {
      const registry = new ProviderRegistry({ openai: {}, gemini: { apiKey: 'g-platform', baseUrl: gemini.baseUrl } }, {}, resolvesInside);
      const breaker = new CircuitBreaker(manager(), { refreshMs: 0 });
      const llm = { openaiBaseUrl: `http://models.tenant.invalid:${new URL(openai.url).port}/v1` };
      for (let index = 0; index < 4; index += 1) {
        const { rows } = await replyFor(tenantId, { registry, breaker, llm, credentials: { openaiApiKey: 'sk-tenant' } });
        expect(path(rows)).toEqual(['gpt-4o:forbidden_destination', 'gemini-2.0-flash:ok']);
        expect(rows[0]).toMatchObject({ errorMessage: 'openai/gpt-4o: outbound request refused (forbidden_address)' });
      }
      expect(slept).toEqual([]);
      expect(openai.book.requests).toHaveLength(0);
      expect(await manager().query(`SELECT provider, model FROM llm_circuit_breakers`)).toEqual([]);
    } finally {
      await resolvesInside.close();
    }
  });
});

/**
 * LLM-layer benchmark (`npm run bench -- llm`, or `npx tsx bench/llm.ts`): router decision time, the trained
 * scorer's own time (src/llm/routing/routing-scorer.ts), reply overhead with a zero-latency provider, the cost of skipping an open breaker, and routed cost versus
 * always-gpt-4o on the labelled calibration set. Runs on an in-memory PGlite; no network.
 */
import crypto from 'node:crypto';
import calibration from '../test/fixtures/router-calibration.json';
import { openDatabase } from '../src/db/data-source';
import { Tenant } from '../src/db/entities/tenant';
import { loadDefaultCatalog, type ModelEntry } from '../src/llm/catalog/model-catalog';
import { CircuitBreaker } from '../src/llm/circuit-breaker';
import { costPicodollars } from '../src/llm/cost';
import { ProviderRegistry } from '../src/llm/provider-registry';
import { createReplyGenerator } from '../src/llm/reply-generator';
import { ProviderUsageRecorder } from '../src/tracking/provider-usage-recorder';
import { route } from '../src/llm/router';
import { defaultRoutingScorer } from '../src/llm/routing/routing-scorer';
import { resolveRoutingPolicy } from '../src/llm/routing-policy';
import type { ChatMessage, LanguageModelProvider } from '../src/llm/types';
import { type BenchRow, machineDescription, quantile, summarize, toMarkdown } from './lib/report';

interface LabelledMessage {
  label: string;
  text: string;
  repeat?: string;
  times?: number;
}
const labelled = (calibration.messages as LabelledMessage[]).map((item) => ({
  ...item,
  content: item.text + (item.repeat ? item.repeat.repeat(item.times ?? 1) : ''),
}));
const shortMessages = labelled.filter((item) => item.label !== 'long_context').map((item) => item.content);

/** Reasoning models spend hidden output tokens; the estimate assumes this many times the visible answer (an assumption). */
const REASONING_OUTPUT_MULTIPLIER = 3;
/** An assumed WhatsApp support traffic mix, for the weighted figure: most messages are greetings and FAQs. */
const TRAFFIC_MIX: Record<string, number> = { simple: 0.6, ordinary: 0.3, complex: 0.1 };
const ANSWER_TOKENS = 200;

const SYSTEM: ChatMessage = {
  role: 'system',
  content:
    'You are a friendly, concise customer-service assistant answering on WhatsApp. Business knowledge:\n- Q: Opening hours? A: 9 to 18, Monday to Saturday.\n- Q: Returns? A: 30 days with the receipt.',
};

function history(turns: number): ChatMessage[] {
  return Array.from({ length: turns }, (_, index) => ({
    role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content:
      index % 2 === 0
        ? `Question ${index}: ${shortMessages[index % shortMessages.length]}`
        : `Sure, here is what I found about that (${index}).`,
  }));
}

/** Per-call times in milliseconds of `body`, after a warm-up. */
async function time(iterations: number, body: (iteration: number) => unknown): Promise<number[]> {
  for (let index = 0; index < Math.min(200, iterations); index += 1) await body(-index - 1);
  const samples: number[] = [];
  for (let index = 0; index < iterations; index += 1) {
    const started = performance.now();
    await body(index);
    samples.push(performance.now() - started);
  }
  return samples;
}

const zeroLatency: LanguageModelProvider & { id: string } = {
  id: 'zero',
  async generate() {
    return {
      text: 'ok',
      finishReason: 'stop',
      usage: { inputTokens: 50, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0, totalTokens: 55 },
    };
  },
};

/** Runs every LLM figure `runs` times and summarises them as report rows. */
export async function runLlmBenchmark(options: { runs?: number } = {}): Promise<BenchRow[]> {
  const runs = options.runs ?? 3;
  const catalog = loadDefaultCatalog();
  const policy = resolveRoutingPolicy({});
  const routeWith = (messages: ChatMessage[]) =>
    route({ messages, catalog, policy, hasProvider: () => true, isOpen: () => false, overBudget: false });

  const samples: Record<string, number[]> = {
    r1p50: [],
    r1p99: [],
    r20p50: [],
    r20p99: [],
    overhead: [],
    overheadP99: [],
    skip: [],
    skipTurn: [],
  };
  const scorerSamples: Record<string, number[]> = { oneP50: [], oneP99: [], twentyP50: [], twentyP99: [], longP50: [], longP99: [] };
  const scorer = defaultRoutingScorer();
  // Longer than the scorer's featurised window (the first 700 and last 300 characters): its cost is the bound.
  const longMessage = shortMessages.join(' ').slice(0, 2000);
  const database = await openDatabase({ pgliteDataDir: 'memory', poolSize: 4 });
  try {
    const manager = database.dataSource.manager;
    const tenant = await manager.save(
      manager.create(Tenant, { name: 'Bench', whatsappNumber: '+15550009999', encryptedCredentials: 'unused', settings: {} }),
    );
    const zeroProviders = { openai: { ...zeroLatency, id: 'openai' }, gemini: { ...zeroLatency, id: 'gemini' } };
    const registry = new ProviderRegistry({ openai: { apiKey: 'x' }, gemini: { apiKey: 'x' } }, zeroProviders);
    const breaker = new CircuitBreaker(manager);
    const generator = createReplyGenerator({
      config: { openai: {}, gemini: {} },
      manager,
      usage: new ProviderUsageRecorder(manager),
      registry,
      breaker,
    });
    const reply = (content: string) =>
      generator.generate({
        tenantId: tenant.id,
        tenantSettings: {},
        credentials: { twilioAuthToken: 'x' },
        conversationId: crypto.randomUUID(),
        interactionId: crypto.randomUUID(),
        messages: [SYSTEM, ...history(6), { role: 'user', content }],
        knowledge: [],
      });
    // The breaker the replies consult: gpt-4o with the credential the tenant's openai requests use.
    const openCredential = registry.forTenant({}, resolveRoutingPolicy({}), tenant.id).credential('openai');
    if (!openCredential) throw new Error('the bench registry offers no openai provider');
    const openModel = { provider: 'openai', model: 'gpt-4o', credential: openCredential };

    // Warm the JIT and the tokenizer before anything is timed.
    await time(3000, (index) =>
      routeWith([
        SYSTEM,
        ...history(19),
        { role: 'user', content: `${shortMessages[Math.abs(index) % shortMessages.length]} warm-${index}` },
      ]),
    );
    for (let run = 0; run < runs; run += 1) {
      // Every last message is new (a unique suffix), so its tokens are counted cold, as in production.
      const one = await time(3000, (index) =>
        routeWith([SYSTEM, { role: 'user', content: `${shortMessages[Math.abs(index) % shortMessages.length]} #${run}-${index}` }]),
      );
      samples.r1p50.push(quantile(one, 0.5));
      samples.r1p99.push(quantile(one, 0.99));
      const earlier = history(19);
      const twenty = await time(3000, (index) =>
        routeWith([
          SYSTEM,
          ...earlier,
          { role: 'user', content: `${shortMessages[Math.abs(index) % shortMessages.length]} #${run}-${index}` },
        ]),
      );
      samples.r20p50.push(quantile(twenty, 0.5));
      samples.r20p99.push(quantile(twenty, 0.99));

      // The trained scorer alone, computing the hand-made features and the tokens itself (the router passes them in).
      // Distinct suffixes per loop: a last message seen before would have its tokens counted from the cache.
      const scorerOne = await time(3000, (index) =>
        scorer.assess([SYSTEM, { role: 'user', content: `${shortMessages[Math.abs(index) % shortMessages.length]} @1-${run}-${index}` }]),
      );
      scorerSamples.oneP50.push(quantile(scorerOne, 0.5));
      scorerSamples.oneP99.push(quantile(scorerOne, 0.99));
      const scorerTwenty = await time(3000, (index) =>
        scorer.assess([
          SYSTEM,
          ...earlier,
          { role: 'user', content: `${shortMessages[Math.abs(index) % shortMessages.length]} @20-${run}-${index}` },
        ]),
      );
      scorerSamples.twentyP50.push(quantile(scorerTwenty, 0.5));
      scorerSamples.twentyP99.push(quantile(scorerTwenty, 0.99));
      const scorerLong = await time(1000, (index) =>
        scorer.assess([SYSTEM, { role: 'user', content: `${longMessage} @long-${run}-${index}` }]),
      );
      scorerSamples.longP50.push(quantile(scorerLong, 0.5));
      scorerSamples.longP99.push(quantile(scorerLong, 0.99));

      await manager.query('DELETE FROM llm_circuit_breakers');
      await breaker.refresh();
      const overhead = await time(400, (index) => reply(`My order #${run}${index} hasn't arrived, can you check?`));
      samples.overhead.push(quantile(overhead, 0.5));
      samples.overheadP99.push(quantile(overhead, 0.99));

      for (let failure = 0; failure < 3; failure += 1) await breaker.recordFailure(openModel, 'server');
      await breaker.refresh();
      const skip = await time(20_000, () => breaker.acquire(openModel));
      samples.skip.push(quantile(skip, 0.5));
      const skipTurn = await time(400, (index) => reply(`My order #${run}${index} hasn't arrived, can you check?`));
      samples.skipTurn.push(quantile(skipTurn, 0.5) - quantile(overhead, 0.5));
    }
  } finally {
    await database.close();
  }

  // Cost: routed model versus always gpt-4o, estimated from exact prompt tokens and a 200-token answer.
  const estimate = (entry: ModelEntry, inputTokens: number) =>
    costPicodollars(entry, {
      inputTokens,
      cachedInputTokens: 0,
      outputTokens: ANSWER_TOKENS * (entry.capabilities.reasoning ? REASONING_OUTPUT_MULTIPLIER : 1),
    });
  const gpt4o = catalog.find({ provider: 'openai', model: 'gpt-4o' })!;
  let routedAll = 0n;
  let baselineAll = 0n;
  let routedFitting = 0n;
  let baselineFitting = 0n;
  const byLabel = new Map<string, { routed: bigint; baseline: bigint; models: Set<string> }>();
  for (const item of labelled) {
    const decision = routeWith([SYSTEM, { role: 'user', content: item.content }]);
    const routed = estimate(catalog.find(decision)!, decision.inputTokens);
    const baseline = estimate(gpt4o, decision.inputTokens);
    routedAll += routed;
    baselineAll += baseline;
    const sums = byLabel.get(item.label) ?? { routed: 0n, baseline: 0n, models: new Set<string>() };
    byLabel.set(item.label, { routed: sums.routed + routed, baseline: sums.baseline + baseline, models: sums.models.add(decision.model) });
    if (decision.inputTokens + ANSWER_TOKENS <= gpt4o.contextWindow) {
      routedFitting += routed;
      baselineFitting += baseline;
    }
  }
  // The same set with a tenant policy whose balanced tier starts at gemini-2.5-flash (gpt-4o second).
  const cheaperPolicy = resolveRoutingPolicy({
    llm: {
      tiers: {
        balanced: [
          { provider: 'gemini', model: 'gemini-2.5-flash' },
          { provider: 'openai', model: 'gpt-4o' },
        ],
      },
    },
  });
  let routedCheaper = 0n;
  for (const item of labelled) {
    const decision = route({
      messages: [SYSTEM, { role: 'user', content: item.content }],
      catalog,
      policy: cheaperPolicy,
      hasProvider: () => true,
      isOpen: () => false,
      overBudget: false,
    });
    if (decision.inputTokens + ANSWER_TOKENS <= gpt4o.contextWindow)
      routedCheaper += estimate(catalog.find(decision)!, decision.inputTokens);
  }
  const percent = (part: bigint, whole: bigint) => Number((part * 1_000_000n) / whole) / 10_000;
  // Weighted: each band's mean routed/baseline cost, weighted by the assumed share of traffic.
  let weightedRouted = 0;
  let weightedBaseline = 0;
  for (const [label, share] of Object.entries(TRAFFIC_MIX)) {
    const sums = byLabel.get(label)!;
    const count = labelled.filter((item) => item.label === label).length;
    weightedRouted += (share * Number(sums.routed)) / count;
    weightedBaseline += (share * Number(sums.baseline)) / count;
  }

  const rows: BenchRow[] = [
    summarize('llm', 'router decision, 1-message history, p50', 'ms', samples.r1p50),
    summarize('llm', 'router decision, 1-message history, p99', 'ms', samples.r1p99, { target: '< 0.2 ms', meets: (value) => value < 0.2 }),
    summarize('llm', 'router decision, 20-message history, p50', 'ms', samples.r20p50),
    summarize('llm', 'router decision, 20-message history, p99', 'ms', samples.r20p99, {
      target: '< 0.2 ms',
      meets: (value) => value < 0.2,
    }),
    summarize('llm', `trained scorer alone (${scorer.modelVersion}), 1-message history, p50`, 'ms', scorerSamples.oneP50),
    summarize('llm', 'trained scorer alone, 1-message history, p99', 'ms', scorerSamples.oneP99, {
      target: '< 0.2 ms',
      meets: (value) => value < 0.2,
    }),
    summarize('llm', 'trained scorer alone, 20-message history, p50', 'ms', scorerSamples.twentyP50),
    summarize('llm', 'trained scorer alone, 20-message history, p99', 'ms', scorerSamples.twentyP99, {
      target: '< 0.2 ms',
      meets: (value) => value < 0.2,
    }),
    summarize('llm', 'trained scorer alone, 2,000-character message, p50', 'ms', scorerSamples.longP50),
    summarize('llm', 'trained scorer alone, 2,000-character message, p99', 'ms', scorerSamples.longP99),
    summarize('llm', 'reply overhead (route + failover + usage row), zero-latency provider, p50', 'ms', samples.overhead, {
      target: '< 5 ms',
      meets: (value) => value < 5,
    }),
    summarize('llm', 'reply overhead, zero-latency provider, p99', 'ms', samples.overheadP99),
    summarize('llm', 'skipping an open breaker (acquire), p50', 'ms', samples.skip, { target: '< 1 ms', meets: (value) => value < 1 }),
    summarize('llm', 'extra reply time when the routed model is open, p50', 'ms', samples.skipTurn, {
      target: '< 1 ms',
      meets: (value) => value < 1,
    }),
    // Informational: issue 16 replaced the old "<= 40 % of always-gpt-4o" target (it contradicted the default tiers)
    // with the cost/quality curve against baselines in docs/routing-eval.md (npm run eval:routing).
    summarize('llm', `routed cost vs always-gpt-4o, ${labelled.length} labelled messages`, '%', [percent(routedAll, baselineAll)]),
    summarize('llm', 'routed cost vs always-gpt-4o, messages gpt-4o can hold', '%', [percent(routedFitting, baselineFitting)]),
    summarize('llm', 'routed cost vs always-gpt-4o, messages gpt-4o can hold, balanced tier = gemini-2.5-flash first', '%', [
      percent(routedCheaper, baselineFitting),
    ]),
    summarize('llm', 'routed cost vs always-gpt-4o, assumed traffic mix 60/30/10 simple/ordinary/complex', '%', [
      Math.round((weightedRouted / weightedBaseline) * 10_000) / 100,
    ]),
    // Where the cost goes: each label's routed cost against gpt-4o, and its share of the whole set's gpt-4o cost.
    ...[...byLabel].map(([label, sums]) =>
      summarize(
        'llm',
        `routed cost vs always-gpt-4o, ${label} (${labelled.filter((item) => item.label === label).length} messages, ${[...sums.models].join(' / ')}; ${percent(sums.baseline, baselineAll).toFixed(1)} % of the set's gpt-4o cost)`,
        '%',
        [percent(sums.routed, sums.baseline)],
      ),
    ),
  ];
  return rows;
}

if (require.main === module) {
  runLlmBenchmark({ runs: Number(process.argv[2] ?? 3) })
    .then((rows) => {
      process.stdout.write(`\nMachine: ${machineDescription()}\n\n${toMarkdown(rows)}\n`);
      process.exit(0);
    })
    .catch((error) => {
      process.stderr.write(`llm bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}

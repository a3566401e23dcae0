/**
 * Prometheus metrics (GET /metrics). Counters and histograms are observed in-process; the gauges that describe
 * shared state (inbox backlog, circuit breakers, job runs) are read from PostgreSQL at scrape time, so any
 * instance reports the same truth whichever process did the work. No label ever carries a tenant id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { statementCount } from './db/statement-counter';
import { loadDefaultCatalog } from './llm/catalog/model-catalog';

export interface ProviderCall {
  provider: string;
  model: string;
  /** 'success', or the UpstreamError kind of a failed attempt (rate_limited, timeout, ...). */
  outcome: string;
  latencySeconds: number;
  /** Dollars of the attempt; a float is fine for a metric, never for the ledger. */
  costUsd?: number;
}

const BREAKER_VALUES: Record<string, number> = { closed: 0, half_open: 1, open: 2 };
const BUILT_IN_PROVIDERS = new Set(['openai', 'gemini']);

/**
 * The labels of a breaker. A model outside Parley's catalog, or a provider that is a tenant's OpenAI-compatible
 * endpoint, can only come from a tenant's settings: its name may identify the tenant (a fine-tuned model's name
 * carries the organisation's) and tenants can make up any number of them, so they are counted as "other" and
 * "compatible". No breaker label carries a fingerprint or a tenant: a count per model is what an operator acts on.
 */
function breakerLabels(row: { provider: string; model: string; tenant_id: string | null }) {
  const provider = BUILT_IN_PROVIDERS.has(row.provider) ? row.provider : 'compatible';
  const known = provider !== 'compatible' && loadDefaultCatalog().find(row) !== undefined;
  return { provider, model: known ? row.model : 'other', credential: row.tenant_id === null ? 'platform' : 'tenant' };
}

/** One registry per process role; createApp serves it at /metrics. */
export class Metrics {
  readonly registry = new Registry();
  private readonly webhookAck: Histogram<'outcome'>;
  private readonly providerLatency: Histogram<'provider' | 'model' | 'outcome'>;
  private readonly providerCalls: Counter<'provider' | 'model' | 'outcome'>;
  private readonly providerCost: Counter<'provider' | 'model'>;
  private readonly typingIndicators: Counter<'outcome'>;

  constructor(manager: EntityManager, backlog: () => Promise<number>, invalidSettings?: () => Promise<number>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    this.webhookAck = new Histogram({
      name: 'parley_webhook_ack_seconds',
      help: 'Time from webhook arrival to acknowledgement',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.providerLatency = new Histogram({
      name: 'parley_provider_call_seconds',
      help: 'Latency of model calls by provider, model and outcome',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60],
      registers,
    });
    this.providerCalls = new Counter({
      name: 'parley_provider_calls_total',
      help: 'Model calls by provider, model and outcome',
      labelNames: ['provider', 'model', 'outcome'],
      registers,
    });
    this.providerCost = new Counter({
      name: 'parley_provider_cost_usd_total',
      help: 'Model spend in dollars',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.typingIndicators = new Counter({
      name: 'parley_typing_indicator_total',
      help: 'WhatsApp typing indicators requested, by outcome (shown, failed, timeout)',
      labelNames: ['outcome'],
      registers,
    });
    let statementsReported = 0;
    new Counter({
      name: 'parley_db_statements_total',
      help: 'SQL statements this process sent to the database (transaction control included)',
      registers,
      collect() {
        const now = statementCount();
        this.inc(now - statementsReported);
        statementsReported = now;
      },
    });
    new Gauge({
      name: 'parley_tenants_with_invalid_settings',
      help: 'Tenants whose stored settings are invalid (restrictive values in use until fixed; see GET /v1/bot/settings)',
      registers,
      async collect() {
        if (invalidSettings) this.set(await invalidSettings());
      },
    });
    new Gauge({
      name: 'parley_inbox_backlog',
      help: 'Messages waiting to be answered or sent',
      registers,
      async collect() {
        this.set(await backlog());
      },
    });
    const breakers = async () =>
      (await manager.query(
        // Per credential, the platform's latest: after a key rotation the old key's breaker is no longer written.
        `SELECT provider, model, tenant_id, state,
                row_number() OVER (PARTITION BY provider, model, tenant_id IS NULL ORDER BY updated_at DESC) AS recency
           FROM llm_circuit_breakers`,
      )) as Array<{ provider: string; model: string; tenant_id: string | null; state: string; recency: string }>;
    new Gauge({
      name: 'parley_circuit_breaker_state',
      help: "The platform key's circuit breaker (shared by every tenant on it) per provider and model: 0 closed, 1 half-open, 2 open",
      labelNames: ['provider', 'model', 'credential'],
      registers,
      async collect() {
        this.reset();
        const worst = new Map<string, { labels: ReturnType<typeof breakerLabels>; value: number }>();
        for (const row of await breakers()) {
          if (row.tenant_id !== null || Number(row.recency) !== 1) continue;
          const labels = breakerLabels(row);
          const key = `${labels.provider}/${labels.model}`;
          const value = BREAKER_VALUES[row.state] ?? -1;
          if ((worst.get(key)?.value ?? -Infinity) < value) worst.set(key, { labels, value });
        }
        for (const { labels, value } of worst.values()) this.set(labels, value);
      },
    });
    new Gauge({
      name: 'parley_circuit_breakers',
      help: "Circuit breakers per provider, model, credential (the platform's or a tenant's own) and state: how many",
      labelNames: ['provider', 'model', 'credential', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const row of await breakers()) this.inc({ ...breakerLabels(row), state: row.state });
      },
    });
    const jobRuns = async () =>
      (await manager.query(
        `SELECT DISTINCT ON (job) job, status, extract(epoch FROM finished_at - started_at)::float8 AS duration,
                (SELECT extract(epoch FROM max(finished_at))::float8 FROM job_runs s WHERE s.job = r.job AND s.status = 'succeeded') AS last_success
         FROM job_runs r WHERE finished_at IS NOT NULL ORDER BY job, started_at DESC`,
      )) as Array<{ job: string; status: string; duration: number; last_success: number | null }>;
    new Gauge({
      name: 'parley_job_last_duration_seconds',
      help: 'Duration of the last finished run of each job',
      labelNames: ['job', 'status'],
      registers,
      async collect() {
        this.reset();
        for (const row of await jobRuns()) this.set({ job: row.job, status: row.status }, row.duration);
      },
    });
    new Gauge({
      name: 'parley_job_last_success_timestamp_seconds',
      help: 'When each job last finished successfully (Unix time)',
      labelNames: ['job'],
      registers,
      async collect() {
        this.reset();
        for (const row of await jobRuns()) if (row.last_success !== null) this.set({ job: row.job }, row.last_success);
      },
    });
  }

  /** Observes one webhook acknowledgement (webhook-router's observeAck). */
  observeWebhookAck(seconds: number, outcome: string): void {
    this.webhookAck.observe({ outcome }, seconds);
  }

  /** Records one model attempt; the failover layer calls this for every attempt, success or failure. */
  recordProviderCall(call: ProviderCall): void {
    const labels = { provider: call.provider, model: call.model, outcome: call.outcome };
    this.providerLatency.observe(labels, call.latencySeconds);
    this.providerCalls.inc(labels);
    if (call.costUsd !== undefined && call.costUsd > 0) this.providerCost.inc({ provider: call.provider, model: call.model }, call.costUsd);
  }

  /** Counts one typing-indicator request (whatsapp/typing-indicator.ts). */
  recordTypingIndicator(outcome: 'shown' | 'failed' | 'timeout'): void {
    this.typingIndicators.inc({ outcome });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * Prometheus metrics (GET /metrics). Counters and histograms are observed in-process; the gauges that describe
 * shared state (inbox backlog, circuit breakers, job runs) are read from PostgreSQL at scrape time, so any
 * instance reports the same truth whichever process did the work. No label ever carries a tenant id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EntityManager } from 'typeorm';

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

/** One registry per process role; createApp serves it at /metrics. */
export class Metrics {
  readonly registry = new Registry();
  private readonly webhookAck: Histogram<'outcome'>;
  private readonly providerLatency: Histogram<'provider' | 'model' | 'outcome'>;
  private readonly providerCalls: Counter<'provider' | 'model' | 'outcome'>;
  private readonly providerCost: Counter<'provider' | 'model'>;

  constructor(manager: EntityManager, backlog: () => Promise<number>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    this.webhookAck = new Histogram({
      name: 'parley_webhook_ack_seconds', help: 'Time from webhook arrival to acknowledgement', labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    });
    this.providerLatency = new Histogram({
      name: 'parley_provider_call_seconds', help: 'Latency of model calls by provider, model and outcome', labelNames: ['provider', 'model', 'outcome'],
      buckets: [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60], registers,
    });
    this.providerCalls = new Counter({
      name: 'parley_provider_calls_total', help: 'Model calls by provider, model and outcome', labelNames: ['provider', 'model', 'outcome'], registers,
    });
    this.providerCost = new Counter({ name: 'parley_provider_cost_usd_total', help: 'Model spend in dollars', labelNames: ['provider', 'model'], registers });
    new Gauge({
      name: 'parley_inbox_backlog', help: 'Messages waiting to be answered or sent', registers,
      async collect() {
        this.set(await backlog());
      },
    });
    new Gauge({
      name: 'parley_circuit_breaker_state', help: 'Circuit breaker per provider and model: 0 closed, 1 half-open, 2 open', labelNames: ['provider', 'model'], registers,
      async collect() {
        this.reset();
        const rows: Array<{ provider: string; model: string; state: string }> = await manager.query(
          `SELECT provider, model, state FROM llm_circuit_breakers`,
        );
        for (const row of rows) this.set({ provider: row.provider, model: row.model }, BREAKER_VALUES[row.state] ?? -1);
      },
    });
    const jobRuns = async () =>
      (await manager.query(
        `SELECT DISTINCT ON (job) job, status, extract(epoch FROM finished_at - started_at)::float8 AS duration,
                (SELECT extract(epoch FROM max(finished_at))::float8 FROM job_runs s WHERE s.job = r.job AND s.status = 'succeeded') AS last_success
         FROM job_runs r WHERE finished_at IS NOT NULL ORDER BY job, started_at DESC`,
      )) as Array<{ job: string; status: string; duration: number; last_success: number | null }>;
    new Gauge({
      name: 'parley_job_last_duration_seconds', help: 'Duration of the last finished run of each job', labelNames: ['job', 'status'], registers,
      async collect() {
        this.reset();
        for (const row of await jobRuns()) this.set({ job: row.job, status: row.status }, row.duration);
      },
    });
    new Gauge({
      name: 'parley_job_last_success_timestamp_seconds', help: 'When each job last finished successfully (Unix time)', labelNames: ['job'], registers,
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

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * Provider health: per tenant, provider and model over the last 24 hours: calls, success rate, average and p95
 * latency, cost. Above 10% failures or 5 s average latency a model is unhealthy. An alert (a structured log line,
 * and a signed POST to the tenant's settings.alertWebhookUrl when set, sent in the background with retries by
 * net/outbound-webhooks.ts) fires only when the state changes; the state is stored in provider_health_states, so
 * every instance and every hourly run agrees on what was already said.
 */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { HealthState } from '../db/entities/provider-health-state';
import type { WebhookSender } from '../net/outbound-webhooks';
import type { JobResult } from './job-runner';

export const HEALTH_THRESHOLDS = { maxFailureRate: 0.1, maxAverageLatencyMs: 5_000 } as const;

export interface ProviderHealth {
  tenantId: string;
  provider: string;
  model: string;
  calls: number;
  successRate: number;
  averageLatencyMs: number;
  p95LatencyMs: number;
  costUsd: string;
  state: HealthState;
  reasons: string[];
}

export interface HealthAlert extends ProviderHealth {
  previousState: HealthState;
}

export interface HealthOptions {
  logger: Logger;
  /** Sends the tenants' alert webhooks (signed, retried, in the background). */
  webhooks: WebhookSender;
  /** Timeout of each alert webhook POST attempt. */
  webhookTimeoutMs: number;
}

type Row = Record<string, string | number | null>;

const WINDOW_SQL = `
SELECT u.tenant_id, u.provider, u.model, count(*)::int AS calls,
       (count(*) FILTER (WHERE u.success))::int AS successes,
       round(avg(u.latency_ms), 3)::text AS avg_latency_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY u.latency_ms)::numeric, 3)::text AS p95_latency_ms,
       COALESCE(sum(u.cost_usd), 0)::text AS cost_usd,
       h.state AS previous_state, t.settings->>'alertWebhookUrl' AS webhook_url
FROM provider_usage u
JOIN tenants t ON t.id = u.tenant_id
LEFT JOIN provider_health_states h ON h.tenant_id = u.tenant_id AND h.provider = u.provider AND h.model = u.model
WHERE u.created_at >= now() - interval '24 hours'
GROUP BY u.tenant_id, u.provider, u.model, h.state, t.settings->>'alertWebhookUrl'`;

// Unhealthy models with no call in the window: nothing is failing any more, so the alert is resolved.
const SILENT_UNHEALTHY_SQL = `
SELECT h.tenant_id, h.provider, h.model, t.settings->>'alertWebhookUrl' AS webhook_url
FROM provider_health_states h JOIN tenants t ON t.id = h.tenant_id
WHERE h.state = 'unhealthy' AND NOT EXISTS (
  SELECT 1 FROM provider_usage u
  WHERE u.tenant_id = h.tenant_id AND u.provider = h.provider AND u.model = h.model AND u.created_at >= now() - interval '24 hours')`;

const UPSERT_STATE_SQL = `
INSERT INTO provider_health_states (tenant_id, provider, model, state, reasons, changed_at, checked_at)
VALUES ($1, $2, $3, $4, $5::jsonb, now(), now())
ON CONFLICT (tenant_id, provider, model) DO UPDATE SET
  checked_at = now(), reasons = EXCLUDED.reasons,
  changed_at = CASE WHEN provider_health_states.state = EXCLUDED.state THEN provider_health_states.changed_at ELSE now() END,
  state = EXCLUDED.state`;

/** Classifies one window's figures. */
export function judgeHealth(calls: number, successes: number, averageLatencyMs: number): { state: HealthState; reasons: string[] } {
  const reasons: string[] = [];
  const failureRate = calls === 0 ? 0 : (calls - successes) / calls;
  if (failureRate > HEALTH_THRESHOLDS.maxFailureRate) reasons.push(`failure rate ${(failureRate * 100).toFixed(1)}% above 10%`);
  if (averageLatencyMs > HEALTH_THRESHOLDS.maxAverageLatencyMs)
    reasons.push(`average latency ${Math.round(averageLatencyMs)} ms above 5000 ms`);
  return { state: reasons.length ? 'unhealthy' : 'healthy', reasons };
}

/** Checks every tenant's models, stores their state and alerts on changes; rowsTouched counts the alerts. */
export async function checkProviderHealth(manager: EntityManager, options: HealthOptions): Promise<JobResult & { alerts: HealthAlert[] }> {
  const rows: Row[] = await manager.query(WINDOW_SQL);
  const silent: Row[] = await manager.query(SILENT_UNHEALTHY_SQL);
  const alerts: Array<{ alert: HealthAlert; webhookUrl: string | null }> = [];
  let unhealthy = 0;
  for (const row of rows) {
    const calls = Number(row.calls);
    const successes = Number(row.successes);
    const averageLatencyMs = Number(row.avg_latency_ms);
    const { state, reasons } = judgeHealth(calls, successes, averageLatencyMs);
    const health: ProviderHealth = {
      tenantId: String(row.tenant_id),
      provider: String(row.provider),
      model: String(row.model),
      calls,
      successRate: calls === 0 ? 1 : successes / calls,
      averageLatencyMs,
      p95LatencyMs: Number(row.p95_latency_ms),
      costUsd: String(row.cost_usd),
      state,
      reasons,
    };
    if (state === 'unhealthy') unhealthy += 1;
    const previousState = (row.previous_state as HealthState | null) ?? 'healthy';
    await manager.query(UPSERT_STATE_SQL, [health.tenantId, health.provider, health.model, state, JSON.stringify(reasons)]);
    if (state !== previousState) alerts.push({ alert: { ...health, previousState }, webhookUrl: row.webhook_url as string | null });
  }
  for (const row of silent) {
    const health: ProviderHealth = {
      tenantId: String(row.tenant_id),
      provider: String(row.provider),
      model: String(row.model),
      calls: 0,
      successRate: 1,
      averageLatencyMs: 0,
      p95LatencyMs: 0,
      costUsd: '0',
      state: 'healthy',
      reasons: ['no calls in the last 24 hours'],
    };
    await manager.query(UPSERT_STATE_SQL, [health.tenantId, health.provider, health.model, 'healthy', JSON.stringify(health.reasons)]);
    alerts.push({ alert: { ...health, previousState: 'unhealthy' }, webhookUrl: row.webhook_url as string | null });
  }
  // The state is stored before alerting: a crash mid-alert loses that alert rather than repeating it every hour.
  for (const { alert, webhookUrl } of alerts) raiseAlert(alert, webhookUrl, options);
  return {
    rowsTouched: alerts.length,
    details: { checked: rows.length + silent.length, unhealthy, alerts: alerts.length },
    alerts: alerts.map(({ alert }) => alert),
  };
}

/** Logs the alert and queues the POST to the tenant's webhook; delivery failures are the sender's to log. */
function raiseAlert(alert: HealthAlert, webhookUrl: string | null, options: HealthOptions): void {
  const fields = {
    tenantId: alert.tenantId,
    provider: alert.provider,
    model: alert.model,
    state: alert.state,
    previousState: alert.previousState,
    reasons: alert.reasons,
    calls: alert.calls,
    successRate: alert.successRate,
    averageLatencyMs: alert.averageLatencyMs,
  };
  if (alert.state === 'unhealthy') options.logger.warn({ alert: 'provider_health', ...fields }, 'provider unhealthy');
  else options.logger.info({ alert: 'provider_health', ...fields }, 'provider recovered');
  if (!webhookUrl) return;
  options.webhooks.send({
    tenantId: alert.tenantId,
    url: webhookUrl,
    event: 'provider_health',
    timeoutMs: options.webhookTimeoutMs,
    logFields: { provider: alert.provider, model: alert.model },
    payload: {
      type: 'provider_health',
      tenant_id: alert.tenantId,
      provider: alert.provider,
      model: alert.model,
      state: alert.state,
      previous_state: alert.previousState,
      reasons: alert.reasons,
      window_hours: 24,
      calls: alert.calls,
      success_rate: alert.successRate,
      avg_latency_ms: alert.averageLatencyMs,
      p95_latency_ms: alert.p95LatencyMs,
      cost_usd: alert.costUsd,
    },
  });
}

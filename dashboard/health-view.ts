/** Provider health: every model's breaker state, success rate and latency, refreshed every 30 seconds. */
import { ApiError, requestJson } from './api';
import { h, notice, replaceChildren } from './dom';
import { count, dateTime, milliseconds, percent } from './format';
import { serves, type View } from './view';

interface ModelHealth {
  provider: string;
  model: string;
  calls: number;
  success_rate: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  /** credential: whose key the breaker guards, the platform's (shared by its tenants) or the tenant's own. */
  breaker: {
    state: 'closed' | 'open' | 'half_open';
    since: string | null;
    consecutive_failures: number;
    credential: 'platform' | 'tenant' | null;
  };
}

const REFRESH_MS = 30_000;
const STATE_LABELS = { closed: 'Closed (healthy)', open: 'Open (skipped)', half_open: 'Half-open (probing)' };
const CREDENTIAL_LABELS = { platform: " · Parley's key", tenant: ' · your key' };
let timer: ReturnType<typeof setInterval> | null = null;

function table(models: ModelHealth[]): HTMLElement {
  if (models.length === 0) return notice('No model was called in the last hour.', 'empty');
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Provider health table' },
    h(
      'table',
      { class: 'health-table' },
      h('caption', { class: 'visually-hidden' }, 'Models with breaker state, success rate and latency over the last hour'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Provider', 'Model', 'Breaker', 'Since', 'Calls', 'Success rate', 'p50', 'p95'].map((title) =>
            h('th', { scope: 'col' }, title),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...models.map((model) =>
          h(
            'tr',
            { 'data-model': `${model.provider}/${model.model}` },
            h('td', {}, model.provider),
            h('th', { scope: 'row' }, model.model),
            h(
              'td',
              {},
              h('span', { class: `state state-${model.breaker.state}` }, STATE_LABELS[model.breaker.state] ?? model.breaker.state),
              model.breaker.credential ? h('small', { class: 'breaker-credential' }, CREDENTIAL_LABELS[model.breaker.credential]) : null,
            ),
            h('td', {}, dateTime(model.breaker.since)),
            h('td', { class: 'number' }, count(model.calls)),
            h('td', { class: 'number' }, percent(model.success_rate)),
            h('td', { class: 'number' }, milliseconds(model.latency_p50_ms)),
            h('td', { class: 'number' }, milliseconds(model.latency_p95_ms)),
          ),
        ),
      ),
    ),
  );
}

export const healthView: View = {
  id: 'health',
  title: 'Provider health',
  isAllowed: (session) => session.scopes.has('analytics:view') && serves(session, 'get', '/v1/bot/providers/health'),
  async show(container) {
    const updated = h('p', { class: 'lead', id: 'health-updated' });
    const body = h('div', { 'aria-live': 'polite' });
    container.append(updated, body);
    const refresh = async () => {
      const response = await requestJson<{ window_minutes: number; data: ModelHealth[] }>('/v1/bot/providers/health');
      replaceChildren(body, table(response.data));
      updated.textContent = `Last ${response.window_minutes} minutes · updated ${new Date().toLocaleTimeString('en-US')} · refreshes every 30 s`;
    };
    this.hide?.();
    await refresh();
    // Left while the first load was in flight: start no timer for a section that is gone.
    if (!container.isConnected) return;
    timer = setInterval(() => {
      refresh().catch((error: unknown) => {
        if (!(error instanceof ApiError && error.status === 401)) updated.textContent = 'Refresh failed; retrying in 30 s.';
      });
    }, REFRESH_MS);
  },
  hide() {
    if (timer !== null) clearInterval(timer);
    timer = null;
  },
};

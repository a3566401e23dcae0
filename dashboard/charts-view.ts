/**
 * Charts of the chosen period, each drawn with Chart.js (bundled, no CDN): cost per day stacked by model, calls and
 * failure rate per day, latency percentiles per model, helpful rate and implicit satisfaction per day, routing mix.
 * A chart whose endpoint this server does not serve says so instead of calling it.
 */
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { query, requestJson } from './api';
import { h, notice } from './dom';
import { money, percent } from './format';
import { loadOverview } from './overview-view';
import { serves, type Session, type View } from './view';

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4d7c0f', '#db2777', '#64748b'];
const charts: Chart[] = [];

type Row = Record<string, unknown>;

/** The first present field among several names (written before the feedback analytics API landed; tolerant of its naming). */
function field(row: Row, ...names: string[]): unknown {
  for (const name of names) if (row[name] !== undefined && row[name] !== null) return row[name];
  return null;
}
const numberField = (row: Row, ...names: string[]): number | null => {
  const value = field(row, ...names);
  const parsed = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(parsed) ? parsed : null;
};
const dayOf = (row: Row) => String(field(row, 'date', 'day', 'bucket') ?? '').slice(0, 10);
const rowsOf = (body: unknown, ...names: string[]): Row[] => {
  if (Array.isArray(body)) return body as Row[];
  for (const name of names) {
    const value = (body as Row | null)?.[name];
    if (Array.isArray(value)) return value as Row[];
  }
  return [];
};

/** The last `days` UTC dates, oldest first, so gaps in the data show as zero days instead of vanishing. */
function utcDays(days: number): string[] {
  const today = new Date();
  const list: string[] = [];
  for (let offset = days - 1; offset >= 0; offset -= 1) {
    list.push(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - offset)).toISOString().slice(0, 10));
  }
  return list;
}

function panel(id: string, title: string, description: string): { element: HTMLElement; canvas: HTMLCanvasElement; body: HTMLElement } {
  const canvas = h('canvas', { id: `chart-${id}`, role: 'img', 'aria-label': `${title}: ${description}` });
  const body = h('div', { class: 'chart-body' }, canvas);
  const element = h('figure', { class: 'chart', 'data-chart': id }, h('figcaption', {}, h('h3', {}, title), h('p', {}, description)), body);
  return { element, canvas, body };
}

function draw(canvas: HTMLCanvasElement, configuration: ChartConfiguration): void {
  charts.push(new Chart(canvas, configuration));
}

function unavailable(body: HTMLElement, what: string): void {
  body.replaceChildren(notice(`${what} is not available on this server yet.`, 'empty'));
}

interface UsageBreakdown {
  by_day_and_model: Array<{ date: string; provider: string; model: string; cost_usd: string }>;
  latency_by_model: Array<{ provider: string; model: string; p50_ms: number | null; p95_ms: number | null; p99_ms: number | null }>;
}

/** The dashboard's own breakdowns (cost per day and model; latency percentiles per model), fetched once per drawing. */
function loadBreakdown(session: Session): Promise<UsageBreakdown> {
  return requestJson<UsageBreakdown>(`/v1/bot/dashboard/usage${query({ days: session.days })}`);
}

async function costPerDay(breakdown: Promise<UsageBreakdown>, days: string[], body: HTMLElement, canvas: HTMLCanvasElement): Promise<void> {
  const rows = (await breakdown).by_day_and_model;
  if (rows.length === 0) return void body.replaceChildren(notice('No model calls in this period.', 'empty'));
  const models = [...new Set(rows.map((row) => `${row.provider}/${row.model}`))].sort();
  draw(canvas, {
    type: 'bar',
    data: {
      labels: days,
      datasets: models.map((model, index) => ({
        label: model,
        backgroundColor: PALETTE[index % PALETTE.length],
        data: days.map((day) =>
          rows
            .filter((row) => row.date === day && `${row.provider}/${row.model}` === model)
            .reduce((sum, row) => sum + Number(row.cost_usd), 0),
        ),
      })),
    },
    options: {
      plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${money(Number(item.raw))}` } } },
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'USD' } } },
    },
  });
}

async function callsPerDay(session: Session, days: string[], body: HTMLElement, canvas: HTMLCanvasElement): Promise<void> {
  if (!serves(session, 'get', '/v1/bot/providers/usage')) return unavailable(body, 'Provider usage');
  const response = await requestJson<{ data: Array<{ date: string; calls: number; failed_calls: number }> }>(
    `/v1/bot/providers/usage${query({ from: days[0], to: days[days.length - 1], group_by: 'day' })}`,
  );
  const byDay = new Map(response.data.map((row) => [row.date.slice(0, 10), row]));
  const calls = days.map((day) => byDay.get(day)?.calls ?? 0);
  const failures = days.map((day) => byDay.get(day)?.failed_calls ?? 0);
  draw(canvas, {
    type: 'bar',
    data: {
      labels: days,
      datasets: [
        { type: 'bar', label: 'Calls', data: calls, backgroundColor: PALETTE[0], yAxisID: 'y' },
        {
          type: 'line',
          label: 'Failure rate',
          data: calls.map((total, index) => (total ? failures[index] / total : null)),
          borderColor: PALETTE[4],
          backgroundColor: PALETTE[4],
          yAxisID: 'rate',
          spanGaps: true,
        },
      ],
    },
    options: {
      scales: {
        y: { beginAtZero: true, title: { display: true, text: 'Calls' } },
        rate: {
          position: 'right',
          beginAtZero: true,
          suggestedMax: 0.1,
          grid: { drawOnChartArea: false },
          ticks: { callback: (value) => percent(Number(value), 0) },
        },
      },
    },
  });
}

async function latencyPerModel(breakdown: Promise<UsageBreakdown>, body: HTMLElement, canvas: HTMLCanvasElement): Promise<void> {
  const rows = (await breakdown).latency_by_model;
  if (rows.length === 0) return void body.replaceChildren(notice('No successful model calls in this period.', 'empty'));
  const percentiles = [
    ['p50', 'p50_ms'],
    ['p95', 'p95_ms'],
    ['p99', 'p99_ms'],
  ] as const;
  draw(canvas, {
    type: 'bar',
    data: {
      labels: rows.map((row) => `${row.provider}/${row.model}`),
      datasets: percentiles.map(([label, name], index) => ({ label, data: rows.map((row) => row[name]), backgroundColor: PALETTE[index] })),
    },
    options: { indexAxis: 'y', scales: { x: { beginAtZero: true, title: { display: true, text: 'ms' } } } },
  });
}

async function feedbackPerDay(session: Session, days: string[], body: HTMLElement, canvas: HTMLCanvasElement): Promise<void> {
  if (!serves(session, 'get', '/v1/bot/feedback/analytics')) return unavailable(body, 'Feedback analytics');
  const response = await requestJson<unknown>(`/v1/bot/feedback/analytics${query({ days: days.length })}`);
  const rows = rowsOf(response, 'by_day', 'daily', 'days');
  const byDay = new Map(rows.map((row) => [dayOf(row), row]));
  const value = (day: string, ...names: string[]) => {
    const row = byDay.get(day);
    return row ? numberField(row, ...names) : null;
  };
  draw(canvas, {
    type: 'line',
    data: {
      labels: days,
      datasets: [
        {
          label: 'Helpful rate',
          data: days.map((day) => value(day, 'helpful_rate')),
          borderColor: PALETTE[1],
          backgroundColor: PALETTE[1],
          spanGaps: true,
        },
        {
          label: 'Implicit satisfaction',
          data: days.map((day) => value(day, 'avg_implicit_score', 'avg_implicit_satisfaction')),
          borderColor: PALETTE[3],
          backgroundColor: PALETTE[3],
          spanGaps: true,
        },
      ],
    },
    options: { scales: { y: { min: 0, max: 1, ticks: { callback: (tick) => percent(Number(tick), 0) } } } },
  });
}

async function routingMix(session: Session, body: HTMLElement, canvas: HTMLCanvasElement): Promise<void> {
  const overview = await loadOverview(session.days);
  if (overview.routing_mix.length === 0) return void body.replaceChildren(notice('No bot replies in this period.', 'empty'));
  draw(canvas, {
    type: 'doughnut',
    data: {
      labels: overview.routing_mix.map((tier) => `${tier.tier} (${percent(tier.share)})`),
      datasets: [
        {
          data: overview.routing_mix.map((tier) => tier.replies),
          backgroundColor: overview.routing_mix.map((_tier, index) => PALETTE[index % PALETTE.length]),
        },
      ],
    },
    options: { plugins: { legend: { position: 'right' } } },
  });
}

export const chartsView: View = {
  id: 'charts',
  title: 'Charts',
  isAllowed: (session) => session.scopes.has('analytics:view') && serves(session, 'get', '/v1/bot/dashboard/usage'),
  async show(container, session) {
    this.hide?.();
    const days = utcDays(session.days);
    const cost = panel('cost', 'Cost per day', 'model spend in US dollars per UTC day, stacked by provider and model');
    const calls = panel('calls', 'Calls and failure rate', 'model calls per day (bars) and the share that failed (line)');
    const latency = panel('latency', 'Latency per model', 'p50, p95 and p99 response time of each model over the period');
    const feedback = panel('feedback', 'Helpful rate and implicit satisfaction', 'per day, between 0 and 100%');
    const mix = panel('routing', 'Routing mix', 'share of bot replies per routing tier');
    container.append(h('div', { class: 'charts' }, cost.element, calls.element, latency.element, feedback.element, mix.element));
    const failures: unknown[] = [];
    const breakdown = loadBreakdown(session);
    const guard = (body: HTMLElement, work: Promise<void>) =>
      work.catch((error: unknown) => {
        failures.push(error);
        body.replaceChildren(notice(error instanceof Error ? error.message : 'Could not load this chart', 'error'));
      });
    await Promise.all([
      guard(cost.body, costPerDay(breakdown, days, cost.body, cost.canvas)),
      guard(calls.body, callsPerDay(session, days, calls.body, calls.canvas)),
      guard(latency.body, latencyPerModel(breakdown, latency.body, latency.canvas)),
      guard(feedback.body, feedbackPerDay(session, days, feedback.body, feedback.canvas)),
      guard(mix.body, routingMix(session, mix.body, mix.canvas)),
    ]);
    container.setAttribute('data-ready', String(failures.length === 0));
  },
  hide() {
    while (charts.length > 0) charts.pop()?.destroy();
  },
};

/**
 * Routing: where replies went (share per tier against the period before), how helpful each tier was per message
 * kind with what routing has learnt and its 95% interval, the cost per reply against always-balanced, what
 * changed, and the latest decisions with their reasons.
 */
import { query, requestJson } from './api';
import { h, notice, scrollTable } from './dom';
import { count, dateTime, money, percent, score } from './format';
import { serves, type View } from './view';

interface Insights {
  days: number;
  tiers: Array<{ tier: string; replies: number; share: number; previous_replies: number; previous_share: number }>;
  cells: Array<{
    kind: string;
    tier: string;
    replies: number;
    helpful: number;
    not_helpful: number;
    helpful_rate: number | null;
    posterior: { good: number; bad: number; mean: number; low: number; high: number } | null;
  }>;
  cost: {
    replies: number;
    total_usd: string;
    per_reply_usd: string | null;
    always_balanced_per_reply_usd: string | null;
    ratio_to_always_balanced: number | null;
  };
  changes: string[];
  recent_decisions: Array<{
    interaction_id: string;
    created_at: string;
    kind: string | null;
    tier: string | null;
    score: number | null;
    propensity: number | null;
    explored: boolean;
    provider: string;
    model: string;
    reason: string | null;
  }>;
}

function tiersTable(insights: Insights): HTMLElement {
  if (insights.tiers.length === 0) return notice('No replies in this period.', 'empty');
  return scrollTable(
    'Share of replies per tier',
    ['Tier', 'Replies', 'Share', 'Previous period'],
    insights.tiers.map((tier) =>
      h(
        'tr',
        { 'data-tier': tier.tier },
        h('th', { scope: 'row' }, tier.tier),
        h('td', { class: 'number' }, count(tier.replies)),
        h('td', { class: 'number' }, percent(tier.share)),
        h('td', { class: 'number' }, percent(tier.previous_share)),
      ),
    ),
  );
}

function cellsTable(insights: Insights): HTMLElement {
  if (insights.cells.length === 0) return notice('No feedback on routed replies yet: routing follows the quality setting alone.', 'empty');
  return scrollTable(
    'Helpful rate per message kind and tier',
    ['Kind', 'Tier', 'Replies', 'Helpful / not', 'Helpful rate', 'Learnt (95% interval)'],
    insights.cells.map((cell) =>
      h(
        'tr',
        { 'data-cell': `${cell.kind}|${cell.tier}` },
        h('th', { scope: 'row' }, cell.kind),
        h('td', {}, cell.tier),
        h('td', { class: 'number' }, count(cell.replies)),
        h('td', { class: 'number' }, `${count(cell.helpful)} / ${count(cell.not_helpful)}`),
        h('td', { class: 'number' }, percent(cell.helpful_rate)),
        h(
          'td',
          { class: 'number' },
          cell.posterior ? `${percent(cell.posterior.mean)} (${percent(cell.posterior.low, 0)}–${percent(cell.posterior.high, 0)})` : '–',
        ),
      ),
    ),
  );
}

function decisionsTable(insights: Insights): HTMLElement {
  if (insights.recent_decisions.length === 0) return notice('No decisions yet.', 'empty');
  return scrollTable(
    'Latest routing decisions and why',
    ['When', 'Kind', 'Tier', 'Score', 'Model', 'Why'],
    insights.recent_decisions.map((decision) =>
      h(
        'tr',
        { 'data-interaction': decision.interaction_id },
        h('td', {}, dateTime(decision.created_at)),
        h('td', {}, decision.kind ?? '–'),
        h('td', {}, `${decision.tier ?? '–'}${decision.explored ? ' (exploring)' : ''}`),
        h('td', { class: 'number' }, score(decision.score)),
        h('td', {}, `${decision.provider}/${decision.model}`),
        h('td', {}, decision.reason ?? '–'),
      ),
    ),
  );
}

export const routingView: View = {
  id: 'routing',
  title: 'Routing',
  isAllowed: (session) => session.scopes.has('analytics:view') && serves(session, 'get', '/v1/bot/routing/insights'),
  async show(container, session) {
    const insights = await requestJson<Insights>(`/v1/bot/routing/insights${query({ days: session.days })}`);
    const cost = insights.cost;
    container.append(
      h(
        'p',
        { class: 'lead', id: 'routing-cost' },
        cost.per_reply_usd === null
          ? 'No replies in this period.'
          : `${money(cost.per_reply_usd)} per reply over ${count(cost.replies)} replies; always-balanced would cost ${money(cost.always_balanced_per_reply_usd)} (${percent(cost.ratio_to_always_balanced, 0)} of it).`,
      ),
      h('h3', {}, 'Where replies went'),
      tiersTable(insights),
      h('h3', {}, 'What customers said, per kind and tier'),
      cellsTable(insights),
      h('h3', {}, 'What changed since the previous period'),
      insights.changes.length
        ? h('ul', { id: 'routing-changes' }, ...insights.changes.map((line) => h('li', {}, line)))
        : notice('No notable change.', 'empty'),
      h('h3', {}, 'Latest decisions'),
      decisionsTable(insights),
    );
  },
};

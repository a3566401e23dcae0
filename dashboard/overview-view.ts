/** Overview: the period's headline figures, each with its change against the previous period. */
import { requestJson, query } from './api';
import { h, notice, replaceChildren } from './dom';
import { change, count, money, percent, score } from './format';
import { serves, type Session, type View } from './view';

interface Figure<Value> {
  value: Value;
  previous: Value;
  change: number | null;
}

export interface OverviewResponse {
  days: number;
  conversations: Figure<number>;
  bot_replies: Figure<number>;
  helpful_rate: Figure<number | null>;
  avg_implicit_satisfaction: Figure<number | null>;
  handoff_rate: Figure<number | null>;
  total_cost_usd: Figure<string>;
  cost_per_conversation_usd: Figure<string | null>;
  routing_mix: Array<{ tier: string; replies: number; share: number }>;
}

/** The overview of the chosen period. */
export function loadOverview(days: number): Promise<OverviewResponse> {
  return requestJson<OverviewResponse>(`/v1/bot/dashboard/overview${query({ days })}`);
}

interface Card {
  id: string;
  label: string;
  format(value: never): string;
  kind: 'relative' | 'points' | 'score';
  /** Whether a rise is good news (colours the change). */
  higherIsBetter: boolean;
  pick(overview: OverviewResponse): Figure<unknown>;
}

const cards: Card[] = [
  { id: 'conversations', label: 'Conversations', format: count, kind: 'relative', higherIsBetter: true, pick: (o) => o.conversations },
  { id: 'bot_replies', label: 'Bot replies', format: count, kind: 'relative', higherIsBetter: true, pick: (o) => o.bot_replies },
  { id: 'helpful_rate', label: 'Helpful rate', format: percent, kind: 'points', higherIsBetter: true, pick: (o) => o.helpful_rate },
  {
    id: 'avg_implicit_satisfaction',
    label: 'Implicit satisfaction',
    format: score,
    kind: 'score',
    higherIsBetter: true,
    pick: (o) => o.avg_implicit_satisfaction,
  },
  { id: 'handoff_rate', label: 'Handoff rate', format: percent, kind: 'points', higherIsBetter: false, pick: (o) => o.handoff_rate },
  { id: 'total_cost_usd', label: 'Total cost', format: money, kind: 'relative', higherIsBetter: false, pick: (o) => o.total_cost_usd },
  {
    id: 'cost_per_conversation_usd',
    label: 'Cost per conversation',
    format: money,
    kind: 'relative',
    higherIsBetter: false,
    pick: (o) => o.cost_per_conversation_usd,
  },
];

function card(definition: Card, overview: OverviewResponse): HTMLElement {
  const figure = definition.pick(overview);
  const difference = change(figure.change, definition.kind);
  const good =
    difference.direction === 'flat' || difference.direction === 'none'
      ? 'neutral'
      : (difference.direction === 'up') === definition.higherIsBetter
        ? 'good'
        : 'bad';
  const format = definition.format as (value: unknown) => string;
  return h(
    'article',
    { class: 'figure', 'data-figure': definition.id, 'aria-labelledby': `figure-label-${definition.id}` },
    h('h3', { id: `figure-label-${definition.id}`, class: 'figure-label' }, definition.label),
    h('p', { class: 'figure-value', 'data-value': String(figure.value ?? '') }, format(figure.value)),
    h(
      'p',
      { class: `figure-change change-${good}`, 'data-change': String(figure.change ?? '') },
      h('span', { 'aria-hidden': 'true' }, difference.direction === 'up' ? '▲ ' : difference.direction === 'down' ? '▼ ' : ''),
      difference.text,
      h('span', { class: 'figure-previous' }, ` (previous ${overview.days} days: ${format(figure.previous)})`),
    ),
  );
}

export const overviewView: View = {
  id: 'overview',
  title: 'Overview',
  isAllowed: (session: Session) => session.scopes.has('analytics:view') && serves(session, 'get', '/v1/bot/dashboard/overview'),
  async show(container, session) {
    const grid = h('div', { class: 'figures', 'aria-busy': 'true' });
    container.append(h('p', { class: 'lead' }, `The last ${session.days} days against the ${session.days} days before.`), grid);
    const overview = await loadOverview(session.days);
    grid.removeAttribute('aria-busy');
    replaceChildren(grid, ...cards.map((definition) => card(definition, overview)));
    if (overview.bot_replies.value === 0 && overview.conversations.value === 0)
      grid.after(notice('No activity in this period yet.', 'empty'));
  },
};

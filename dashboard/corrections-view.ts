/**
 * Corrections queue: corrections not yet approved for training, each with the customer's message, the bot's answer
 * and the human answer side by side. Approve with a quality score (0-5) or reject (delete); export approved ones as JSONL.
 */
import { ApiError, query, request, requestJson } from './api';
import { h, notice, replaceChildren } from './dom';
import { dateTime } from './format';
import { serves, type Session, type View } from './view';

interface Correction {
  id: string;
  customer_message: string;
  bot_response: string;
  human_response: string;
  correction_reason: string | null;
  correction_category: string;
  created_at: string;
}

const PAGE_SIZE = 20;
const CATEGORY_LABELS: Record<string, string> = {
  factual_error: 'Factual error',
  tone_inappropriate: 'Inappropriate tone',
  missing_information: 'Missing information',
  wrong_intent: 'Wrong intent',
  poor_recommendation: 'Poor recommendation',
  other: 'Other',
};

function column(title: string, text: string, kind: string): HTMLElement {
  return h('div', { class: `side side-${kind}` }, h('h4', {}, title), h('p', { class: 'side-text' }, text));
}

function correctionCard(correction: Correction, session: Session, onDone: (card: HTMLElement, message: string) => void): HTMLElement {
  const canWrite = session.scopes.has('users:manage');
  const scoreId = `quality-${correction.id}`;
  const status = h('p', { class: 'card-status', role: 'status' });
  const card = h(
    'article',
    { class: 'correction', 'data-correction-id': correction.id, 'aria-label': `Correction of ${dateTime(correction.created_at)}` },
    h(
      'header',
      { class: 'correction-head' },
      h('span', { class: 'tag' }, CATEGORY_LABELS[correction.correction_category] ?? correction.correction_category),
      h('time', { datetime: correction.created_at }, dateTime(correction.created_at)),
    ),
    h(
      'div',
      { class: 'sides' },
      column('Customer', correction.customer_message, 'customer'),
      column('Bot answered', correction.bot_response, 'bot'),
      column('Human answer', correction.human_response, 'human'),
    ),
    correction.correction_reason ? h('p', { class: 'reason' }, h('strong', {}, 'Why: '), correction.correction_reason) : null,
  );
  if (canWrite) {
    const select = h(
      'select',
      { id: scoreId, name: 'quality_score' },
      ...[5, 4, 3, 2, 1, 0].map((value) => h('option', { value }, `${value}${value === 5 ? ' (best)' : value === 0 ? ' (worst)' : ''}`)),
    );
    const act = async (button: HTMLButtonElement, work: () => Promise<unknown>, done: string) => {
      for (const control of card.querySelectorAll('button, select')) (control as HTMLButtonElement).disabled = true;
      status.textContent = 'Saving…';
      try {
        await work();
        onDone(card, done);
      } catch (error) {
        status.textContent = error instanceof ApiError ? error.message : 'Could not save; try again.';
        status.classList.add('notice-error');
        for (const control of card.querySelectorAll('button, select')) (control as HTMLButtonElement).disabled = false;
        button.focus();
      }
    };
    const approve: HTMLButtonElement = h(
      'button',
      {
        type: 'button',
        class: 'button-approve',
        'aria-describedby': scoreId,
        onclick: () =>
          void act(
            approve,
            () =>
              requestJson(`/v1/bot/corrections/${correction.id}/approve`, {
                method: 'POST',
                body: { approved: true, quality_score: Number(select.value) },
              }),
            'Approved',
          ),
      },
      'Approve',
    );
    const reject: HTMLButtonElement = h(
      'button',
      {
        type: 'button',
        class: 'button-reject',
        title: 'Reject: delete this correction',
        onclick: () => void act(reject, () => request(`/v1/bot/corrections/${correction.id}`, { method: 'DELETE' }), 'Rejected'),
      },
      'Reject',
    );
    card.append(h('div', { class: 'actions' }, h('label', { for: scoreId }, 'Quality score'), select, approve, reject), status);
  }
  return card;
}

/** Downloads approved corrections as JSONL (fetched with the key, saved through a blob link). */
async function exportJsonl(format: string, status: HTMLElement): Promise<void> {
  status.textContent = 'Exporting…';
  const response = await request(`/v1/bot/corrections/export${query({ format })}`, { key: undefined });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: `corrections-${format}.jsonl`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  const lines = (await blob.text()).split('\n').filter((line) => line.trim() !== '').length;
  status.textContent = `Exported ${lines} approved correction${lines === 1 ? '' : 's'}.`;
}

export const correctionsView: View = {
  id: 'corrections',
  title: 'Corrections queue',
  isAllowed: (session) => session.scopes.has('analytics:view') && serves(session, 'get', '/v1/bot/corrections'),
  async show(container, session) {
    const toolbar = h('div', { class: 'toolbar' });
    const list = h('div', { class: 'corrections', 'aria-live': 'polite' });
    const summary = h('p', { class: 'lead' });
    container.append(summary, toolbar, list);

    if (serves(session, 'get', '/v1/bot/corrections/export')) {
      const status = h('span', { class: 'export-status', role: 'status' });
      const format = h(
        'select',
        { id: 'export-format', name: 'format' },
        h('option', { value: 'openai' }, 'OpenAI chat'),
        h('option', { value: 'openai-preference' }, 'OpenAI preference'),
        h('option', { value: 'gemini' }, 'Gemini'),
      );
      toolbar.append(
        h('label', { for: 'export-format' }, 'Export format'),
        format,
        h(
          'button',
          {
            type: 'button',
            id: 'export-jsonl',
            onclick: () =>
              void exportJsonl(format.value, status).catch(
                (error: unknown) => (status.textContent = error instanceof Error ? error.message : 'Export failed'),
              ),
          },
          'Export approved (JSONL)',
        ),
        status,
      );
    }

    const page = await requestJson<{ data: Correction[]; next_cursor: string | null }>(
      `/v1/bot/corrections${query({ approved: false, limit: PAGE_SIZE })}`,
    );
    let waiting = page.data.length;
    const describe = () => {
      summary.textContent =
        waiting === 0 ? '' : `${waiting}${page.next_cursor ? '+' : ''} correction${waiting === 1 ? '' : 's'} waiting for review.`;
      if (waiting === 0 && !list.querySelector('.notice-empty')) list.append(notice('Nothing is waiting for review.', 'empty'));
    };
    const done = (card: HTMLElement, message: string) => {
      card.remove();
      waiting -= 1;
      describe();
      document.getElementById('status')!.textContent = `${message}. ${waiting} left in the queue.`;
    };
    replaceChildren(list, ...page.data.map((correction) => correctionCard(correction, session, done)));
    describe();
  },
};

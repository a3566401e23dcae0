/**
 * Settings (admins, settings:manage): the common fields (system prompt, the routing quality knob, tiers and monthly
 * budget, feedback button frequency, handoff message), saved as one JSON merge patch with field-level errors; the
 * problems of invalid stored settings; which secrets are set; and who changed what, when.
 */
import { ApiError, requestJson } from './api';
import { h, notice, replaceChildren } from './dom';
import { dateTime } from './format';
import { serves, type View } from './view';

interface SettingsResponse {
  settings: {
    systemPrompt?: string;
    handoffMessage?: string;
    feedbackButtons?: 'always' | 'never' | { everyNth: number };
    llm?: { quality?: number; monthlyBudgetUsd?: string; tiers?: Record<string, Array<{ provider: string; model: string }>> } & Record<
      string,
      unknown
    >;
  };
  problems: Array<{ setting: string; message: string; fallback: string }>;
  credentials: Record<string, unknown>;
  updated_at: string;
}

interface Change {
  actor: string;
  actor_name: string | null;
  fields: string[];
  created_at: string;
}

const TIER_NAMES = ['cheap', 'balanced', 'reasoning', 'longContext'];

/** A labelled control with a slot for its field error. */
function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id = id;
  control.setAttribute('aria-describedby', `${id}-error${hint ? ` ${id}-hint` : ''}`);
  return h(
    'div',
    { class: 'field', 'data-field': id },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' }),
  );
}

/** "provider/model, provider/model" per tier, one line each: the tiers as a person edits them. */
function tiersText(tiers: Record<string, Array<{ provider: string; model: string }>> | undefined): string {
  if (!tiers) return '';
  return TIER_NAMES.filter((tier) => tiers[tier])
    .map((tier) => `${tier}: ${tiers[tier].map((model) => `${model.provider}/${model.model}`).join(', ')}`)
    .join('\n');
}

/** Parses the tiers text back; throws a message for the field on a malformed line. */
function parseTiers(text: string): Record<string, Array<{ provider: string; model: string }>> | null {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.length === 0) return null;
  const tiers: Record<string, Array<{ provider: string; model: string }>> = {};
  for (const line of lines) {
    const match = /^(\w+)\s*:\s*(.+)$/.exec(line);
    if (!match || !TIER_NAMES.includes(match[1]))
      throw new Error(`"${line}": write a tier (${TIER_NAMES.join(', ')}), a colon, then provider/model entries`);
    tiers[match[1]] = match[2].split(',').map((entry) => {
      const [provider, ...model] = entry.trim().split('/');
      if (!provider || model.length === 0) throw new Error(`"${entry.trim()}" is not provider/model`);
      return { provider, model: model.join('/') };
    });
  }
  return tiers;
}

export const settingsView: View = {
  id: 'settings',
  title: 'Settings',
  isAllowed: (session) => session.scopes.has('settings:manage') && serves(session, 'get', '/v1/bot/settings'),
  async show(container) {
    const [current, changes] = await Promise.all([
      requestJson<SettingsResponse>('/v1/bot/settings'),
      requestJson<{ data: Change[] }>('/v1/bot/settings/changes'),
    ]);
    const { settings } = current;
    const feedback = settings.feedbackButtons;
    const prompt = h('textarea', { rows: 5, maxlength: 8000 }, settings.systemPrompt ?? '');
    const quality = h('input', { type: 'number', min: 0, max: 1, step: 0.05, value: settings.llm?.quality ?? 0.5 });
    const budget = h('input', { type: 'text', inputmode: 'decimal', value: settings.llm?.monthlyBudgetUsd ?? '', placeholder: 'no limit' });
    const tiers = h(
      'textarea',
      { rows: 4, placeholder: 'cheap: gemini/gemini-2.0-flash, openai/gpt-4o-mini' },
      tiersText(settings.llm?.tiers),
    );
    const frequency = h(
      'select',
      {},
      ...[
        ['always', 'On every answer'],
        ['every', 'On every Nth answer'],
        ['never', 'Never'],
      ].map(([value, label]) =>
        h('option', { value, selected: (typeof feedback === 'object' ? 'every' : (feedback ?? 'always')) === value }, label),
      ),
    );
    const everyNth = h('input', { type: 'number', min: 1, max: 100, value: typeof feedback === 'object' ? feedback.everyNth : 3 });
    const handoff = h('textarea', { rows: 2, maxlength: 1000 }, settings.handoffMessage ?? '');
    const status = h('p', { class: 'card-status', role: 'status', id: 'settings-status' });
    const save = h('button', { type: 'submit' }, 'Save settings');
    const form = h(
      'form',
      { class: 'settings-form', novalidate: true },
      field('setting-system-prompt', 'System prompt', prompt, "The business's voice and rules; empty: Parley's default."),
      field(
        'setting-quality',
        'Routing quality (0 to 1)',
        quality,
        'Higher sends more messages to stronger, costlier models; 0.5 by default.',
      ),
      field('setting-budget', 'Monthly budget (USD)', budget, 'Over it, every message goes to the cheap tier. Empty: no limit.'),
      field(
        'setting-tiers',
        'Routing tiers',
        tiers,
        'One line per tier: "balanced: openai/gpt-4o, gemini/gemini-2.5-flash". Empty: the defaults.',
      ),
      field('setting-feedback', 'Feedback buttons', frequency),
      field('setting-every-nth', 'Every Nth answer', everyNth),
      field('setting-handoff-message', 'Handoff message', handoff, 'Told to the customer when a person takes over; empty: the default.'),
      save,
      status,
    );
    const fieldOf: Record<string, string> = {
      systemPrompt: 'setting-system-prompt',
      'llm.quality': 'setting-quality',
      'llm.monthlyBudgetUsd': 'setting-budget',
      'llm.tiers': 'setting-tiers',
      feedbackButtons: 'setting-feedback',
      'feedbackButtons.everyNth': 'setting-every-nth',
      handoffMessage: 'setting-handoff-message',
    };
    const showError = (id: string, message: string) => {
      const slot = form.querySelector<HTMLElement>(`#${id}-error`);
      if (slot) slot.textContent = message;
      form.querySelector(`#${id}`)?.setAttribute('aria-invalid', 'true');
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      for (const slot of form.querySelectorAll<HTMLElement>('.field-error')) slot.textContent = '';
      for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
      let parsedTiers: ReturnType<typeof parseTiers>;
      try {
        parsedTiers = parseTiers(tiers.value);
      } catch (error) {
        showError('setting-tiers', (error as Error).message);
        return;
      }
      const text = (value: string) => (value.trim() === '' ? null : value.trim());
      const patch = {
        systemPrompt: text(prompt.value),
        handoffMessage: text(handoff.value),
        feedbackButtons: frequency.value === 'every' ? { everyNth: Number(everyNth.value) } : frequency.value,
        llm: { quality: quality.value === '' ? null : Number(quality.value), monthlyBudgetUsd: text(budget.value), tiers: parsedTiers },
      };
      save.disabled = true;
      status.textContent = 'Saving…';
      requestJson<SettingsResponse>('/v1/bot/settings', { method: 'PATCH', body: patch })
        .then((saved) => {
          status.textContent = `Saved at ${dateTime(saved.updated_at)}.`;
        })
        .catch((error: unknown) => {
          status.textContent = error instanceof ApiError ? error.message : 'Could not save; try again.';
          if (error instanceof ApiError && Array.isArray(error.details)) {
            for (const detail of error.details as Array<{ path: string; message: string }>) {
              const key = Object.keys(fieldOf).find((candidate) => detail.path === candidate || detail.path.startsWith(`${candidate}.`));
              if (key) showError(fieldOf[key], detail.message);
            }
          }
        })
        .finally(() => {
          save.disabled = false;
        });
    });

    const problems = current.problems.length
      ? h(
          'div',
          { class: 'notice notice-error', role: 'alert', id: 'settings-problems' },
          h('p', {}, 'Some stored settings are invalid; Parley uses a safe value instead until they are fixed:'),
          h(
            'ul',
            {},
            ...current.problems.map((problem) => h('li', {}, `${problem.setting}: ${problem.message} (instead: ${problem.fallback})`)),
          ),
        )
      : null;
    const secrets = Object.entries(current.credentials).map(([name, value]) =>
      h(
        'li',
        {},
        `${name}: ${typeof value === 'object' && value !== null && 'set' in value ? ((value as { set: boolean }).set ? 'set' : 'not set') : value === null ? 'not set' : typeof value === 'string' ? value : `${Object.keys(value as object).join(', ') || 'none'}`}`,
      ),
    );
    const history = changes.data.length
      ? h(
          'ul',
          { id: 'settings-changes' },
          ...changes.data.map((change) =>
            h('li', {}, `${dateTime(change.created_at)} · ${change.actor_name ?? change.actor} · ${change.fields.join(', ')}`),
          ),
        )
      : notice('No change recorded yet.', 'empty');
    replaceChildren(
      container,
      container.firstElementChild,
      problems,
      form,
      h('h3', {}, 'Secrets'),
      h(
        'p',
        { class: 'hint' },
        'Secrets are write-only: set them with PATCH /v1/bot/settings (credentials) or npm run admin -- tenant:configure.',
      ),
      h('ul', { id: 'settings-secrets' }, ...secrets),
      h('h3', {}, 'Changes'),
      history,
    );
  },
};

/**
 * Knowledge: the documents the bot answers from (upload a file or add a URL, each with its indexing status or
 * failure reason, re-sync and delete) and a retrieval test bench that shows the ranked passages a customer's message
 * finds, with both legs' scores. Q/A entries and approved corrections are listed as one "Questions and answers" document.
 */
import { ApiError, query, request, requestJson } from './api';
import { append, h, notice, replaceChildren, scrollTable } from './dom';
import { count, dateTime, score } from './format';
import {
  documentSource,
  documentStatus,
  indexingInProgress,
  type KnowledgeDocument,
  keywordLeg,
  passageHeading,
  passageKind,
  type SearchPassage,
  type VectorLeg,
  vectorLeg,
  vectorLegSummary,
} from './knowledge-format';
import { serves, type Session, type View } from './view';

const BASE = '/v1/bot/knowledge';
/** While a document waits or is indexed, the list is read again this often. */
const POLL_MS = 2_000;
let timer: ReturnType<typeof setTimeout> | null = null;

const errorText = (error: unknown) => (error instanceof ApiError ? error.message : 'Something went wrong; try again.');

/** A one-line form of labelled controls and a submit button; `onSubmit` runs instead of the browser's submission. */
function inlineForm(
  attributes: Record<string, string>,
  fields: Array<[label: string, control: HTMLInputElement | HTMLSelectElement]>,
  submit: string,
  onSubmit: (form: HTMLFormElement) => void,
): HTMLFormElement {
  const form = h(
    'form',
    { class: 'knowledge-form', ...attributes },
    ...fields.flatMap(([label, control]) => [h('label', { for: control.id }, label), control]),
    h('button', { type: 'submit' }, submit),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSubmit(form);
  });
  return form;
}

/** The form that adds a document: a file upload, or a URL (one page or a whole site). */
function addForms(onAdded: (message: string) => Promise<void>): HTMLElement {
  const status = h('p', { class: 'card-status', role: 'status', id: 'knowledge-add-status' });
  const run = async (form: HTMLFormElement, work: () => Promise<KnowledgeDocument>) => {
    const controls = [...form.querySelectorAll('button, input, select')] as HTMLButtonElement[];
    for (const control of controls) control.disabled = true;
    status.classList.remove('notice-error');
    status.textContent = 'Adding…';
    try {
      const added = await work();
      form.reset();
      await onAdded(`Added “${added.title}”: ${documentStatus(added).toLowerCase()}.`);
      status.textContent = `Added “${added.title}”; it is indexed in the background.`;
    } catch (error) {
      status.textContent = errorText(error);
      status.classList.add('notice-error');
    } finally {
      for (const control of controls) control.disabled = false;
    }
  };
  const file = h('input', {
    id: 'knowledge-file',
    name: 'file',
    type: 'file',
    accept: '.md,.markdown,.txt,.html,.htm,.pdf',
    required: true,
  });
  const fileTitle = h('input', { id: 'knowledge-file-title', name: 'title', type: 'text', maxlength: 300, placeholder: 'Optional' });
  const fileForm = inlineForm(
    { 'aria-label': 'Upload a document' },
    [
      ['Document file (Markdown, text, HTML or PDF)', file],
      ['Title', fileTitle],
    ],
    'Upload',
    (form) => {
      const chosen = file.files?.[0];
      if (!chosen) {
        status.textContent = 'Choose a file first.';
        return;
      }
      const upload = new FormData();
      upload.append('file', chosen, chosen.name);
      if (fileTitle.value.trim()) upload.append('title', fileTitle.value.trim());
      void run(form, () => requestJson<KnowledgeDocument>(`${BASE}/documents`, { method: 'POST', form: upload }));
    },
  );

  const url = h('input', { id: 'knowledge-url', name: 'url', type: 'url', required: true, placeholder: 'https://…' });
  const kind = h(
    'select',
    { id: 'knowledge-url-kind', name: 'kind' },
    h('option', { value: 'url' }, 'This page'),
    h('option', { value: 'siteUrl' }, 'The site from this page'),
    h('option', { value: 'sitemapUrl' }, 'The pages of this sitemap'),
  );
  const urlForm = inlineForm(
    { 'aria-label': 'Add a web page or site' },
    [
      ['Web page URL', url],
      ['What to index', kind],
    ],
    'Add URL',
    (form) => {
      const body = { [kind.value]: url.value.trim() };
      void run(form, () => requestJson<KnowledgeDocument>(`${BASE}/documents`, { method: 'POST', body }));
    },
  );
  return h('div', { class: 'knowledge-add' }, fileForm, urlForm, status);
}

/** One document's row: title, source, status (with the failure reason), passages, sync time and its actions. */
function documentRow(
  document: KnowledgeDocument,
  canWrite: boolean,
  act: (document: KnowledgeDocument, action: 'resync' | 'delete') => void,
) {
  const actions = h('div', { class: 'row-actions' });
  if (canWrite) {
    actions.append(
      h(
        'button',
        {
          type: 'button',
          class: 'button-secondary',
          'aria-label': `Re-sync ${document.title}`,
          disabled: document.status === 'indexing',
          onclick: () => act(document, 'resync'),
        },
        'Re-sync',
      ),
    );
    // The Q/A document is its entries and corrections: they are deleted one by one, not as a document.
    if (document.source_kind !== 'faq')
      actions.append(
        h(
          'button',
          { type: 'button', class: 'button-reject', 'aria-label': `Delete ${document.title}`, onclick: () => act(document, 'delete') },
          'Delete',
        ),
      );
  }
  return h(
    'tr',
    { 'data-document-id': document.id, 'data-status': document.status },
    h('th', { scope: 'row' }, document.title),
    h('td', { class: 'wrap' }, documentSource(document)),
    h('td', { class: `wrap status-${document.status}` }, documentStatus(document)),
    h('td', { class: 'number' }, count(document.chunk_count)),
    h('td', {}, document.embedding_model ?? 'Keyword only'),
    h('td', { class: 'wrap' }, dateTime(document.last_synced_at)),
    h('td', {}, actions),
  );
}

function documentsTable(documents: KnowledgeDocument[], canWrite: boolean, act: Parameters<typeof documentRow>[2]): HTMLElement {
  if (documents.length === 0) return notice('No documents yet. Upload a file or add a URL.', 'empty');
  return scrollTable(
    'Knowledge documents',
    ['Title', 'Source', 'Status', 'Passages', 'Embeddings', 'Last synced', 'Actions'],
    documents.map((document) => documentRow(document, canWrite, act)),
  );
}

/** One ranked passage: what it is, where from, its text, and how each leg scored it. */
function passageItem(passage: SearchPassage, leg: VectorLeg): HTMLElement {
  return h(
    'li',
    { class: 'passage', 'data-chunk-id': passage.chunk_id, 'data-kind': passage.kind },
    h('div', { class: 'passage-head' }, h('span', { class: 'tag' }, passageKind(passage)), h('strong', {}, passageHeading(passage))),
    h('p', { class: 'passage-text' }, passage.text),
    h(
      'p',
      { class: 'passage-scores' },
      `Fused ${passage.score.toFixed(4)} · relevance ${score(passage.relevance)} · `,
      h('span', { 'data-leg': 'keyword' }, keywordLeg(passage)),
      ' · ',
      h('span', { 'data-leg': 'vector' }, vectorLeg(passage, leg)),
    ),
    passage.kind === 'document' && passage.source ? h('p', { class: 'passage-source' }, passage.source) : null,
  );
}

/** The retrieval test bench: a customer's message in, the ranked passages out with both legs' scores. */
function searchBench(): HTMLElement {
  const input = h('input', { id: 'knowledge-query', name: 'q', type: 'search', required: true, maxlength: 1000 });
  const summary = h('p', { class: 'lead', role: 'status', id: 'knowledge-search-summary' });
  const results = h('ol', { class: 'passages', 'aria-label': 'Ranked passages' });
  const form = inlineForm({ role: 'search', 'aria-label': 'Test retrieval' }, [["A customer's message", input]], 'Search', () => {
    const text = input.value.trim();
    if (!text) return;
    summary.textContent = 'Searching…';
    requestJson<{ vector_leg: VectorLeg; passages: SearchPassage[] }>(`${BASE}/search${query({ q: text, limit: 10 })}`)
      .then((found) => {
        summary.textContent = `${found.passages.length} passage${found.passages.length === 1 ? '' : 's'}. ${vectorLegSummary(found.vector_leg)}`;
        replaceChildren(results, ...found.passages.map((passage) => passageItem(passage, found.vector_leg)));
      })
      .catch((error: unknown) => {
        summary.textContent = errorText(error);
        replaceChildren(results);
      });
  });
  return h(
    'section',
    { class: 'knowledge-search', 'aria-labelledby': 'knowledge-search-title' },
    h('h3', { id: 'knowledge-search-title' }, 'Test retrieval'),
    form,
    summary,
    results,
  );
}

export const knowledgeView: View = {
  id: 'knowledge',
  title: 'Knowledge',
  isAllowed: (session) => session.scopes.has('conversations:manage') && serves(session, 'get', `${BASE}/documents`),
  async show(container, session: Session) {
    this.hide?.();
    const canWrite = session.scopes.has('users:manage') && serves(session, 'post', `${BASE}/documents`);
    const list = h('div', { 'aria-live': 'polite', id: 'knowledge-documents' });
    const announce = (message: string) => {
      document.getElementById('status')!.textContent = message;
    };
    const refresh = async (): Promise<void> => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const page = await requestJson<{ data: KnowledgeDocument[] }>(`${BASE}/documents${query({ limit: 100 })}`);
      replaceChildren(list, documentsTable(page.data, canWrite, act));
      // Indexing runs in the background: the list follows it until nothing waits.
      if (indexingInProgress(page.data) && container.isConnected) timer = setTimeout(() => void refresh().catch(() => undefined), POLL_MS);
    };
    const act = (target: KnowledgeDocument, action: 'resync' | 'delete') => {
      if (action === 'delete' && !window.confirm(`Delete “${target.title}” and its passages?`)) return;
      const call =
        action === 'resync'
          ? requestJson(`${BASE}/documents/${target.id}/resync`, { method: 'POST' })
          : request(`${BASE}/documents/${target.id}`, { method: 'DELETE' });
      call
        // The list is refreshed before the announcement, so what the announcement confirms is already shown.
        .then(() => refresh())
        .then(() => announce(action === 'resync' ? `Re-syncing “${target.title}”.` : `Deleted “${target.title}”.`))
        .catch((error: unknown) => announce(errorText(error)));
    };
    append(container, [
      h(
        'p',
        { class: 'lead' },
        'Documents the bot answers from. Q/A entries and approved corrections are searched the same way, as “Questions and answers”.',
      ),
      canWrite
        ? addForms(async (message) => {
            await refresh();
            announce(message);
          })
        : null,
      list,
      serves(session, 'get', `${BASE}/search`) ? searchBench() : null,
    ]);
    await refresh();
  },
  hide() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  },
};

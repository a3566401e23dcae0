/** Conversations in handoff: the list, one thread, a reply box, and giving the conversation back to the bot. */
import { ApiError, query, requestJson } from './api';
import { h, notice, replaceChildren } from './dom';
import { dateTime } from './format';
import { type AnswerSource, answerSourceLine } from './knowledge-format';
import { serves, type View } from './view';

interface ConversationSummary {
  id: string;
  status: string;
  /** Why the latest handoff happened (customer_asked, agent_took_over, ...). */
  handoff?: { reason: string; at: string } | null;
  /** Set while the customer has opted out of messages. */
  opted_out_at?: string | null;
  customer: { whatsapp_address: string; profile_name: string | null };
  last_message_at: string;
}

interface ThreadMessage {
  id: string;
  direction: 'inbound' | 'outbound';
  author: 'customer' | 'bot' | 'agent' | 'system';
  body: string;
  /** The body is a voice note's transcript. */
  transcribed?: boolean;
  /** The customer's media: kind and what the bot made of it (the bytes are never stored). */
  media?: Array<{ kind?: string; contentType: string | null; outcome?: string }>;
  status: string;
  /** Why it was not delivered or not sent, in words (Twilio's 63016 outside the 24-hour window, an opt-out, ...). */
  error?: string | null;
  error_code?: string | null;
  /** A bot answer's sources: the passages of the knowledge base it was given. */
  sources?: AnswerSource[];
  created_at: string;
}

/** "Voice note (transcribed)", "Photo (shown to model)", ... for each media item of a message. */
function mediaNote(message: ThreadMessage): string {
  const names: Record<string, string> = { audio: 'Voice note', image: 'Photo', document: 'Document', other: 'Attachment' };
  return (message.media ?? [])
    .map((item) => `${names[item.kind ?? 'other'] ?? 'Attachment'}${item.outcome ? ` (${item.outcome.replaceAll('_', ' ')})` : ''}`)
    .join(', ');
}

interface Thread extends ConversationSummary {
  messages: ThreadMessage[];
}

const AUTHOR_LABELS: Record<string, string> = { customer: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System' };

const customerName = (conversation: ConversationSummary) =>
  conversation.customer.profile_name || conversation.customer.whatsapp_address.replace(/^whatsapp:/, '');

function messageItem(message: ThreadMessage): HTMLElement {
  return h(
    'li',
    { class: `message message-${message.author}`, 'data-message-id': message.id },
    h(
      'p',
      { class: 'message-meta' },
      h('strong', {}, AUTHOR_LABELS[message.author] ?? message.author),
      ' · ',
      h('time', { datetime: message.created_at }, dateTime(message.created_at)),
      ...(message.transcribed ? [' · ', h('em', { class: 'message-transcribed' }, 'transcribed voice note')] : []),
    ),
    ...(mediaNote(message) ? [h('p', { class: 'message-media' }, mediaNote(message))] : []),
    h('p', { class: 'message-body' }, message.body || '(no text)'),
    ...(message.error_code
      ? [h('p', { class: 'message-error', role: 'note' }, message.error ?? `Not delivered (error ${message.error_code})`)]
      : []),
    ...(message.sources?.length
      ? [
          h(
            'ul',
            { class: 'message-sources', 'aria-label': 'Sources of this answer' },
            ...message.sources.map((source) => h('li', { 'data-chunk-id': source.chunk_id }, answerSourceLine(source))),
          ),
        ]
      : []),
  );
}

/** "customer_asked" -> "customer asked", for the handoff reason tag. */
const reasonLabel = (reason: string) => reason.replaceAll('_', ' ');

export const handoffsView: View = {
  id: 'handoffs',
  title: 'Handoffs',
  isAllowed: (session) => session.scopes.has('conversations:manage') && serves(session, 'get', '/v1/bot/conversations'),
  async show(container, session) {
    const canReply = serves(session, 'post', '/v1/bot/conversations/{id}/messages');
    const canHandBack = serves(session, 'post', '/v1/bot/conversations/{id}/handback');
    const listPanel = h('div', { class: 'handoff-list' });
    const threadPanel = h('div', { class: 'thread', 'aria-live': 'polite' }, notice('Open a conversation to read it.', 'info'));
    container.append(h('div', { class: 'handoffs' }, listPanel, threadPanel));

    const loadList = async () => {
      const page = await requestJson<{ data: ConversationSummary[] }>(`/v1/bot/conversations${query({ status: 'handoff', limit: 100 })}`);
      if (page.data.length === 0) return replaceChildren(listPanel, notice('No conversation is waiting for a person.', 'empty'));
      replaceChildren(
        listPanel,
        h('h3', { class: 'visually-hidden' }, 'Waiting for a person'),
        h(
          'ul',
          { class: 'conversation-list', role: 'list' },
          ...page.data.map((conversation) =>
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'conversation-open',
                  'data-conversation-id': conversation.id,
                  'aria-label': `Open conversation with ${customerName(conversation)}`,
                  onclick: () => void openThread(conversation.id).catch(showThreadError),
                },
                h('span', { class: 'conversation-name' }, customerName(conversation)),
                h('span', { class: 'conversation-time' }, dateTime(conversation.last_message_at)),
              ),
            ),
          ),
        ),
      );
    };

    const showThreadError = (error: unknown) => {
      if (error instanceof ApiError && error.status === 401) return;
      threadPanel.append(notice(error instanceof Error ? error.message : 'Could not load the conversation', 'error'));
    };

    const openThread = async (id: string) => {
      for (const button of listPanel.querySelectorAll('.conversation-open')) {
        button.setAttribute('aria-pressed', String(button.getAttribute('data-conversation-id') === id));
      }
      const thread = await requestJson<Thread>(`/v1/bot/conversations/${id}`);
      const messages = h(
        'ol',
        { class: 'messages', 'aria-label': `Messages with ${customerName(thread)}` },
        ...thread.messages.map(messageItem),
      );
      const status = h('p', { class: 'card-status', role: 'status' });
      const reply = h('textarea', { id: 'reply-body', name: 'body', rows: 3, maxlength: 1600, required: true });
      const form = h(
        'form',
        { class: 'reply-form' },
        h('label', { for: 'reply-body' }, `Reply to ${customerName(thread)}`),
        reply,
        h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'send-reply' }, 'Send reply')),
        status,
      );
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        const body = reply.value.trim();
        if (!body) {
          status.textContent = 'Write a message first.';
          return;
        }
        status.textContent = 'Sending…';
        requestJson<ThreadMessage>(`/v1/bot/conversations/${id}/messages`, { method: 'POST', body: { body } })
          .then((message) => {
            messages.append(messageItem(message));
            reply.value = '';
            status.textContent = 'Sent.';
          })
          .catch((error: unknown) => (status.textContent = error instanceof Error ? error.message : 'Could not send.'));
      });
      const handBack = h(
        'button',
        {
          type: 'button',
          id: 'hand-back',
          class: 'button-secondary',
          onclick: () => {
            status.textContent = 'Handing back…';
            requestJson(`/v1/bot/conversations/${id}/handback`, { method: 'POST' })
              .then(async () => {
                replaceChildren(threadPanel, notice(`The bot answers ${customerName(thread)} again.`, 'info'));
                await loadList();
              })
              .catch((error: unknown) => (status.textContent = error instanceof Error ? error.message : 'Could not hand back.'));
          },
        },
        'Hand back to the bot',
      );
      replaceChildren(
        threadPanel,
        h(
          'header',
          { class: 'thread-head' },
          h('h3', {}, customerName(thread)),
          h('span', { class: 'tag' }, thread.status),
          thread.handoff
            ? h('span', { class: 'tag', title: 'Why the conversation went to a person' }, reasonLabel(thread.handoff.reason))
            : null,
          thread.opted_out_at ? h('span', { class: 'tag' }, 'opted out') : null,
          canHandBack && thread.status === 'handoff' ? handBack : null,
        ),
        messages,
        canReply ? form : null,
      );
      if (canReply) reply.focus();
    };

    await loadList();
  },
};

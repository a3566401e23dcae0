/**
 * Rich WhatsApp messages: plain text, quick-reply buttons and list pickers, validated against WhatsApp's limits
 * for in-session messages. A rich message renders two ways: Content API types (real buttons) and a plain text
 * fallback that lists numbered options, for when no content resource can be had.
 */
import type { OfferedChoice } from '../db/entities/message';

/** WhatsApp's limits for session messages (Twilio Content API docs, twilio/quick-reply and twilio/list-picker). */
export const RICH_MESSAGE_LIMITS = {
  bodyLength: 1024,
  quickReplyButtons: 3,
  quickReplyTitleLength: 20,
  listItems: 10,
  listItemTitleLength: 24,
  listItemDescriptionLength: 72,
  listButtonLength: 20,
  choiceIdLength: 200,
} as const;

export interface QuickReplyButton {
  /** Comes back as ButtonPayload when tapped. */
  id: string;
  title: string;
}

export interface ListPickerItem {
  id: string;
  title: string;
  description?: string;
}

export type RichMessage =
  | { kind: 'text'; body: string }
  | { kind: 'quick_reply'; body: string; buttons: QuickReplyButton[] }
  | { kind: 'list_picker'; body: string; buttonLabel: string; items: ListPickerItem[] };

/** A rich message that breaks WhatsApp's limits; `problems` lists every one. */
export class RichMessageError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid rich message: ${problems.join('; ')}`);
    this.name = 'RichMessageError';
  }
}

/** Characters as WhatsApp counts them (code points, so an emoji is one). */
const lengthOf = (text: string) => [...text].length;

function checkLength(problems: string[], what: string, text: string, max: number): void {
  if (text.trim() === '') problems.push(`${what} must not be empty`);
  else if (lengthOf(text) > max) problems.push(`${what} is ${lengthOf(text)} characters; the limit is ${max}`);
}

function checkIds(problems: string[], what: string, ids: string[]): void {
  for (const [index, id] of ids.entries()) checkLength(problems, `${what} ${index + 1} id`, id, RICH_MESSAGE_LIMITS.choiceIdLength);
  if (new Set(ids).size !== ids.length) problems.push(`${what} ids must be unique`);
}

/** A plain text message (body up to 1,024 characters, like the rich kinds, so any message can become one). */
export function textMessage(body: string): RichMessage {
  const problems: string[] = [];
  checkLength(problems, 'Body', body, RICH_MESSAGE_LIMITS.bodyLength);
  if (problems.length > 0) throw new RichMessageError(problems);
  return { kind: 'text', body };
}

/** Quick-reply buttons: 1 to 3, titles up to 20 characters, body up to 1,024. */
export function quickReply(body: string, buttons: QuickReplyButton[]): RichMessage {
  const problems: string[] = [];
  checkLength(problems, 'Body', body, RICH_MESSAGE_LIMITS.bodyLength);
  if (buttons.length === 0) problems.push('A quick reply needs at least one button');
  if (buttons.length > RICH_MESSAGE_LIMITS.quickReplyButtons) {
    problems.push(`A quick reply has at most ${RICH_MESSAGE_LIMITS.quickReplyButtons} buttons; got ${buttons.length}`);
  }
  for (const [index, button] of buttons.entries()) {
    checkLength(problems, `Button ${index + 1} title`, button.title, RICH_MESSAGE_LIMITS.quickReplyTitleLength);
  }
  checkIds(
    problems,
    'Button',
    buttons.map((button) => button.id),
  );
  if (problems.length > 0) throw new RichMessageError(problems);
  return { kind: 'quick_reply', body, buttons };
}

/** A list picker: 1 to 10 items, titles up to 24 characters, descriptions up to 72, body up to 1,024. */
export function listPicker(body: string, buttonLabel: string, items: ListPickerItem[]): RichMessage {
  const problems: string[] = [];
  checkLength(problems, 'Body', body, RICH_MESSAGE_LIMITS.bodyLength);
  checkLength(problems, 'List button label', buttonLabel, RICH_MESSAGE_LIMITS.listButtonLength);
  if (items.length === 0) problems.push('A list picker needs at least one item');
  if (items.length > RICH_MESSAGE_LIMITS.listItems) {
    problems.push(`A list picker has at most ${RICH_MESSAGE_LIMITS.listItems} items; got ${items.length}`);
  }
  items.forEach((item, index) => {
    checkLength(problems, `Item ${index + 1} title`, item.title, RICH_MESSAGE_LIMITS.listItemTitleLength);
    if (item.description !== undefined) {
      checkLength(problems, `Item ${index + 1} description`, item.description, RICH_MESSAGE_LIMITS.listItemDescriptionLength);
    }
  });
  checkIds(
    problems,
    'Item',
    items.map((item) => item.id),
  );
  if (problems.length > 0) throw new RichMessageError(problems);
  return { kind: 'list_picker', body, buttonLabel, items };
}

/** The options a message offers, in order (empty for text). */
export function choicesOf(message: RichMessage): OfferedChoice[] {
  if (message.kind === 'quick_reply') return message.buttons.map(({ id, title }) => ({ id, title }));
  if (message.kind === 'list_picker') return message.items.map(({ id, title }) => ({ id, title }));
  return [];
}

/** What a text fallback appends to the body: the numbered options and how to answer. */
export function numberedOptions(choices: OfferedChoice[]): string {
  return `\n\n${choices.map((choice, index) => `${index + 1}. ${choice.title}`).join('\n')}\n\nReply with a number.`;
}

/** The body followed by numbered options ("1. 👍 Helpful"), for channels or tenants without real buttons. */
export function toTextFallback(message: RichMessage): string {
  const choices = choicesOf(message);
  return choices.length === 0 ? message.body : `${message.body}${numberedOptions(choices)}`;
}

/**
 * The `types` object of a Content API resource: the interactive type plus a twilio/text fallback inside the same
 * resource, which Twilio uses where the interactive type cannot be shown. Keys are Twilio's wire names.
 */
export function toContentTypes(message: RichMessage): Record<string, object> {
  const text = { body: toTextFallback(message) };
  switch (message.kind) {
    case 'text':
      return { 'twilio/text': text };
    case 'quick_reply':
      return {
        'twilio/quick-reply': { body: message.body, actions: message.buttons.map((button) => ({ title: button.title, id: button.id })) },
        'twilio/text': text,
      };
    case 'list_picker':
      return {
        'twilio/list-picker': {
          body: message.body,
          button: message.buttonLabel,
          items: message.items.map((item) => ({
            id: item.id,
            item: item.title,
            ...(item.description ? { description: item.description } : {}),
          })),
        },
        'twilio/text': text,
      };
  }
}

/**
 * Splits a message into a reusable template (body and ids as {{n}} variables, titles fixed) and the variables of
 * this send, so one content resource serves every message with the same titles.
 */
export function parameterize(message: RichMessage): { template: RichMessage; variables: Record<string, string> } {
  const variables: Record<string, string> = { '1': message.body };
  let next = 2;
  const variable = (value: string) => {
    const name = String(next);
    next += 1;
    variables[name] = value;
    return `{{${name}}}`;
  };
  switch (message.kind) {
    case 'text':
      return { template: { kind: 'text', body: '{{1}}' }, variables };
    case 'quick_reply':
      return {
        template: { ...message, body: '{{1}}', buttons: message.buttons.map((button) => ({ ...button, id: variable(button.id) })) },
        variables,
      };
    case 'list_picker':
      return {
        template: { ...message, body: '{{1}}', items: message.items.map((item) => ({ ...item, id: variable(item.id) })) },
        variables,
      };
  }
}

import { describe, expect, it } from 'vitest';
import {
  listPicker,
  parameterize,
  quickReply,
  RichMessageError,
  textMessage,
  toContentTypes,
  toTextFallback,
} from '../../src/whatsapp/rich-message';

const button = (index: number, title = `Option ${index}`) => ({ id: `id-${index}`, title });
const problemsOf = (build: () => unknown): string[] => {
  try {
    build();
  } catch (error) {
    if (error instanceof RichMessageError) return error.problems;
    throw error;
  }
  throw new Error('expected a RichMessageError');
};

describe('rich message builder', () => {
  it('builds a quick reply with up to 3 buttons, titles up to 20 characters and a body up to 1,024', () => {
    const message = quickReply('x'.repeat(1024), [button(1, 'a'.repeat(20)), button(2), button(3)]);
    expect(message).toMatchObject({ kind: 'quick_reply', buttons: [{ id: 'id-1' }, { id: 'id-2' }, { id: 'id-3' }] });
  });

  it('counts an emoji as one character, as WhatsApp does', () => {
    expect(() => quickReply('Was this helpful?', [button(1, `👍${'a'.repeat(19)}`)])).not.toThrow();
  });

  it('lists every broken quick-reply limit at once', () => {
    const problems = problemsOf(() => quickReply('x'.repeat(1025), [button(1, 'a'.repeat(21)), button(2), button(3), button(4)]));
    expect(problems).toEqual([
      'Body is 1025 characters; the limit is 1024',
      'A quick reply has at most 3 buttons; got 4',
      'Button 1 title is 21 characters; the limit is 20',
    ]);
  });

  it('rejects an empty body, no buttons, empty titles and duplicate ids', () => {
    expect(problemsOf(() => quickReply(' ', []))).toEqual(['Body must not be empty', 'A quick reply needs at least one button']);
    expect(
      problemsOf(() =>
        quickReply('Hi', [
          { id: 'same', title: '' },
          { id: 'same', title: 'B' },
        ]),
      ),
    ).toEqual(['Button 1 title must not be empty', 'Button ids must be unique']);
  });

  it('builds a list picker with up to 10 items, titles up to 24 and descriptions up to 72 characters', () => {
    const items = Array.from({ length: 10 }, (_, index) => ({ id: `i${index}`, title: 't'.repeat(24), description: 'd'.repeat(72) }));
    expect(listPicker('Pick one', 'Choose', items)).toMatchObject({ kind: 'list_picker', items: { length: 10 } });
  });

  it('lists every broken list-picker limit', () => {
    const items = Array.from({ length: 11 }, (_, index) => ({ id: `i${index}`, title: index === 0 ? 't'.repeat(25) : 'ok' }));
    items[1] = { ...items[1], description: 'd'.repeat(73) } as (typeof items)[number];
    expect(problemsOf(() => listPicker('Pick', 'A label that is too long', items))).toEqual([
      'List button label is 24 characters; the limit is 20',
      'A list picker has at most 10 items; got 11',
      'Item 1 title is 25 characters; the limit is 24',
      'Item 2 description is 73 characters; the limit is 72',
    ]);
  });

  it('limits a text message to 1,024 characters too', () => {
    expect(textMessage('hello')).toEqual({ kind: 'text', body: 'hello' });
    expect(problemsOf(() => textMessage('x'.repeat(1025)))).toEqual(['Body is 1025 characters; the limit is 1024']);
  });

  it('renders a numbered text fallback', () => {
    expect(toTextFallback(quickReply('Was this helpful?', [button(1, '👍 Helpful'), button(2, '👎 Not helpful')]))).toBe(
      'Was this helpful?\n\n1. 👍 Helpful\n2. 👎 Not helpful\n\nReply with a number.',
    );
    expect(toTextFallback(textMessage('plain'))).toBe('plain');
  });

  it('renders Content API types in Twilio wire names, with a twilio/text fallback in the same resource', () => {
    const types = toContentTypes(quickReply('Body', [button(1, 'Yes'), button(2, 'No')]));
    expect(types).toEqual({
      'twilio/quick-reply': {
        body: 'Body',
        actions: [
          { title: 'Yes', id: 'id-1' },
          { title: 'No', id: 'id-2' },
        ],
      },
      'twilio/text': { body: 'Body\n\n1. Yes\n2. No\n\nReply with a number.' },
    });
    const list = toContentTypes(listPicker('Body', 'Choose', [{ id: 'a', title: 'A', description: 'first' }]));
    expect(list['twilio/list-picker']).toEqual({ body: 'Body', button: 'Choose', items: [{ id: 'a', item: 'A', description: 'first' }] });
  });

  it('turns the body and ids into variables so one resource serves every message with the same titles', () => {
    const first = parameterize(quickReply('First answer', [button(1, 'Yes'), button(2, 'No')]));
    const second = parameterize(
      quickReply('Another answer', [
        { id: 'x', title: 'Yes' },
        { id: 'y', title: 'No' },
      ]),
    );
    expect(first.template).toEqual(second.template);
    expect(first.template).toMatchObject({
      body: '{{1}}',
      buttons: [
        { id: '{{2}}', title: 'Yes' },
        { id: '{{3}}', title: 'No' },
      ],
    });
    expect(second.variables).toEqual({ '1': 'Another answer', '2': 'x', '3': 'y' });
  });
});

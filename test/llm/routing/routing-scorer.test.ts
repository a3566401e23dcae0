import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRouterModel, routerModelVersion } from '../../../src/llm/routing/router-model';
import { guessLanguage } from '../../../src/llm/routing/routing-features';
import { createRoutingScorer, defaultRoutingScorer } from '../../../src/llm/routing/routing-scorer';
import type { ChatMessage } from '../../../src/llm/types';

const MODEL_FILE = path.resolve(__dirname, '../../../src/llm/routing/router-model.json');
const scorer = defaultRoutingScorer();
const score = (text: string) => scorer.assessText(text).score;

const GREETINGS = ['Hi', 'Hello there!', 'Good morning', 'Thanks a lot!', 'ok perfect, thank you', 'Hola, buenos días', 'Bonjour'];
const EVERYDAY = [
  'What are your opening hours?',
  'Do you ship to Canada?',
  "My order #48213 still hasn't arrived, can you check?",
  'I want to cancel my subscription',
];
const MULTI_STEP_MATHS = [
  'Janet buys 3 boxes of pencils with 24 pencils each. She gives a third of them to her brother, then sells half of the rest at $0.25 each and uses the money to buy erasers at $1.50 each. How many erasers can she buy, and how many pencils does she have left?',
  'A store sells apples at $2 per pound and oranges at $3 per pound. Maria buys 4 pounds of apples and twice as many pounds of oranges, then gets a 15% discount on the total. She pays with a $50 bill. How much change does she get?',
];

describe('the committed router model', () => {
  it('is at most 200 KB, and its version is the hash of its content', () => {
    expect(fs.statSync(MODEL_FILE).size).toBeLessThanOrEqual(200 * 1024);
    const raw = JSON.parse(fs.readFileSync(MODEL_FILE, 'utf8'));
    expect(raw.version).toBe(routerModelVersion(raw));
    expect(scorer.modelVersion).toBe(raw.version);
  });

  it('refuses a file whose content does not match its version', () => {
    const raw = JSON.parse(fs.readFileSync(MODEL_FILE, 'utf8'));
    raw.scorer.gate.bias += 1;
    expect(() => decodeRouterModel(raw)).toThrow(/does not match the content/);
  });
});

describe('RoutingScorer', () => {
  it('scores greetings and thanks low, in any of the languages it guesses', () => {
    for (const text of GREETINGS) expect(score(text), text).toBeLessThan(0.05);
  });

  it('scores everyday customer requests low', () => {
    for (const text of EVERYDAY) expect(score(text), text).toBeLessThan(0.1);
  });

  it('scores a multi-step maths word problem high: above 0.15 and many times any greeting', () => {
    const highestGreeting = Math.max(...GREETINGS.map(score));
    for (const text of MULTI_STEP_MATHS) {
      expect(score(text), text).toBeGreaterThan(0.15);
      expect(score(text), text).toBeGreaterThan(10 * highestGreeting);
    }
  });

  it('keeps every score in [0, 1], for empty, huge and odd input', () => {
    // (Long unbroken runs are kept short: the tokenizer's time grows with the square of a run without spaces.)
    for (const text of [
      '',
      ' ',
      '?'.repeat(5000),
      '💬'.repeat(300),
      'a'.repeat(3000),
      'word '.repeat(40_000),
      '1+1='.repeat(1000),
      'Привет, где мой заказ?',
    ]) {
      const value = score(text);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
  });

  it('gives the same input the same assessment, whatever was scored before', () => {
    const first = scorer.assessText(MULTI_STEP_MATHS[0]);
    for (const text of [...GREETINGS, 'a'.repeat(10_000)]) scorer.assessText(text);
    expect(scorer.assessText(MULTI_STEP_MATHS[0])).toEqual(first);
    expect(createRoutingScorer(JSON.parse(fs.readFileSync(MODEL_FILE, 'utf8'))).assessText(MULTI_STEP_MATHS[0])).toEqual(first);
  });

  it('reads the last customer message of a conversation and raises the score of a long one', () => {
    const question = 'I ordered a medium but I think I need a large, is it possible to exchange it?';
    const history: ChatMessage[] = Array.from({ length: 20 }, (_, index) => ({
      role: index % 2 ? 'assistant' : 'user',
      content: `message ${index}`,
    }));
    const alone = scorer.assess([
      { role: 'system', content: 'You are a shop assistant.' },
      { role: 'user', content: question },
    ]);
    const late = scorer.assess([{ role: 'system', content: 'You are a shop assistant.' }, ...history, { role: 'user', content: question }]);
    expect(alone.turnsBefore).toBe(0);
    expect(late.turnsBefore).toBe(20);
    expect(late.messageScore).toBe(alone.messageScore);
    expect(late.score).toBeGreaterThan(alone.score);
    expect(scorer.assess([{ role: 'assistant', content: 'Hello! How can I help?' }]).score).toBe(score(''));
  });

  it('uses precomputed tokens and complexity features when the router passes them', () => {
    const text = MULTI_STEP_MATHS[1];
    const plain = scorer.assessText(text);
    const given = scorer.assessText(text, 0, { tokens: plain.lastMessageTokens });
    expect(given.score).toBe(plain.score);
  });
});

describe('message kinds', () => {
  const kindOf = (text: string) => scorer.assessText(text).kind;

  it.each([
    ['greeting', 'Hello there!'],
    ['greeting', 'Thanks so much, bye!'],
    ['faq', 'What time do you open on Saturdays?'],
    ['account', "My card still hasn't arrived, it has been two weeks"],
    ['account', 'I was charged twice for the same payment'],
    ['complaint', 'This is unacceptable, nobody has answered my emails for a week. Terrible service.'],
    ['maths', MULTI_STEP_MATHS[0]],
    [
      'analysis',
      'Which of the following best describes the role of the Federal Reserve in monetary policy?\nA. Fiscal\nB. Setting interest rates\nC. Taxation\nD. Trade\nAnswer:',
    ],
    ['code', 'My Python script throws a KeyError when I parse the JSON from your webhook API, how do I fix it?'],
    ['code', 'why does this fail?\n```js\nconst x = items.map(item => item.price)\n```'],
  ])('calls %s: %s', (kind, text) => {
    expect(kindOf(text)).toBe(kind);
  });

  it('calls a message of 2,000 tokens or more a long document', () => {
    const assessment = scorer.assessText('Please review this contract. '.repeat(400));
    expect(assessment.lastMessageTokens).toBeGreaterThanOrEqual(2000);
    expect(assessment.kind).toBe('long_document');
    expect(assessment.kindProbability).toBe(1);
  });
});

describe('guessLanguage', () => {
  it.each([
    ['en', 'Where is my order? It has not arrived yet'],
    ['es', '¿Dónde está mi pedido? No ha llegado todavía'],
    ['pt', 'Olá, o meu pedido ainda não chegou'],
    ['fr', "Bonjour, ma commande n'est pas arrivée"],
    ['de', 'Hallo, meine Bestellung ist noch nicht angekommen'],
    ['non-latin', 'Здравствуйте, где мой заказ?'],
    ['undetermined', '12345'],
  ])('guesses %s for %s', (language, text) => {
    expect(guessLanguage(text)).toBe(language);
  });
});

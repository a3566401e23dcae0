import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buttonPayload, matchTypedChoice, readButtonPayload, wantsFeedbackButtons } from '../../src/feedback/feedback-buttons';
import { feedbackTokenKey, issueFeedbackToken, verifyFeedbackToken } from '../../src/feedback/feedback-token';
import { isHumanRequest } from '../../src/feedback/human-request';
import { implicitSatisfaction } from '../../src/feedback/satisfaction';

const key = feedbackTokenKey(crypto.randomBytes(32));
const tenantId = crypto.randomUUID();
const interactionId = crypto.randomUUID();

describe('feedback tokens', () => {
  it('round-trips the interaction id for the tenant it was issued for, in 39 characters', () => {
    const token = issueFeedbackToken(key, tenantId, interactionId);
    expect(token).toHaveLength(39);
    expect(verifyFeedbackToken(key, tenantId, token)).toBe(interactionId);
  });

  it("rejects another tenant's token, a changed interaction id, another key and garbage", () => {
    const token = issueFeedbackToken(key, tenantId, interactionId);
    expect(verifyFeedbackToken(key, crypto.randomUUID(), token)).toBeNull();
    const otherInteraction = issueFeedbackToken(key, tenantId, crypto.randomUUID());
    expect(verifyFeedbackToken(key, tenantId, `${otherInteraction.split('.')[0]}.${token.split('.')[1]}`)).toBeNull();
    expect(verifyFeedbackToken(feedbackTokenKey(crypto.randomBytes(32)), tenantId, token)).toBeNull();
    for (const garbage of ['', 'abc', `${token}x`, token.replace('.', ':')]) expect(verifyFeedbackToken(key, tenantId, garbage)).toBeNull();
  });

  it('reads a button payload only when its token verifies', () => {
    expect(readButtonPayload(key, tenantId, buttonPayload(key, tenantId, interactionId, 'not_helpful'))).toEqual({
      kind: 'feedback',
      rating: 'not_helpful',
      interactionId,
    });
    expect(readButtonPayload(key, tenantId, buttonPayload(key, tenantId, interactionId, 'human'))).toEqual({
      kind: 'human',
      interactionId,
    });
    expect(readButtonPayload(key, crypto.randomUUID(), buttonPayload(key, tenantId, interactionId, 'helpful'))).toBeNull();
    expect(readButtonPayload(key, tenantId, `parley:delete:${issueFeedbackToken(key, tenantId, interactionId)}`)).toBeNull();
  });
});

describe('implicit satisfaction', () => {
  const none = { userContinued: false, completedAction: false, requestedHuman: false, responseTimeSeconds: null };

  it('starts at 0.5 and adds or removes each signal', () => {
    expect(implicitSatisfaction(none)).toBe(0.5);
    expect(implicitSatisfaction({ ...none, userContinued: true, responseTimeSeconds: 300 })).toBe(0.8);
    expect(implicitSatisfaction({ ...none, requestedHuman: true })).toBe(0);
    expect(implicitSatisfaction({ ...none, requestedHuman: true, userContinued: true, responseTimeSeconds: 31 })).toBe(0.3);
  });

  it('counts an answer within 30 seconds as quick, and 31 seconds as not', () => {
    expect(implicitSatisfaction({ ...none, userContinued: true, responseTimeSeconds: 30 })).toBe(1);
    expect(implicitSatisfaction({ ...none, userContinued: true, responseTimeSeconds: 31 })).toBe(0.8);
  });

  it('clamps to [0, 1]', () => {
    expect(implicitSatisfaction({ userContinued: true, completedAction: true, requestedHuman: false, responseTimeSeconds: 1 })).toBe(1);
    expect(implicitSatisfaction({ userContinued: false, completedAction: false, requestedHuman: true, responseTimeSeconds: null })).toBe(0);
  });
});

describe('human request detection', () => {
  it.each([
    'I want to talk to a human',
    'agent',
    'Agent please!',
    'Can I speak to a representative?',
    'a real person',
    'Quiero hablar con un agente',
    'necesito una persona',
    'humano por favor',
    'Quero falar com um atendente',
    'Preciso falar com uma pessoa',
    'quero um atendente',
  ])('recognises %j', (text) => {
    expect(isHumanRequest(text)).toBe(true);
  });

  it.each([
    'How much is it per person?',
    'What does the agent fee include?',
    'Tickets for 3 people',
    'my travel agent booked this',
    'Necesito reservar para 2 personas',
    'Quero reservar para uma pessoa',
    'hello',
  ])('does not mistake %j for a request', (text) => {
    expect(isHumanRequest(text)).toBe(false);
  });
});

describe('typed answers to numbered options', () => {
  const choices = [
    { id: 'h', title: '👍 Helpful' },
    { id: 'n', title: '👎 Not helpful' },
  ];

  it('matches the number, the title, the title without its emoji and the emoji (any skin tone)', () => {
    for (const text of ['1', ' 1. ', '👍 Helpful', 'helpful', '👍', '👍🏽']) expect(matchTypedChoice(text, choices)?.id).toBe('h');
    for (const text of ['2', 'Not helpful', '👎']) expect(matchTypedChoice(text, choices)?.id).toBe('n');
  });

  it('matches nothing else', () => {
    for (const text of ['3', '0', 'yes', 'helpful, thanks a lot for everything you did today', ''])
      expect(matchTypedChoice(text, choices)).toBeNull();
  });
});

describe('feedback button frequency', () => {
  it('is always by default, never when off, and every Nth answer otherwise', () => {
    expect(wantsFeedbackButtons({}, 1)).toBe(true);
    expect(wantsFeedbackButtons({ feedbackButtons: 'never' }, 1)).toBe(false);
    expect([1, 2, 3, 4, 5, 6].map((n) => wantsFeedbackButtons({ feedbackButtons: { everyNth: 3 } }, n))).toEqual([
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
  });
});

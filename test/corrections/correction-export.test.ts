import { describe, expect, it } from 'vitest';
import { formatTrainingLine } from '../../src/corrections/correction-export';
import { createApiKey, createTenant } from '../support/factories';
import { withKey } from '../support/correction-factories';
import { useTestContext } from '../support/test-context';

describe('formatTrainingLine', () => {
  const correction = {
    customerMessage: 'And on Sundays?',
    context: [
      { role: 'assistant' as const, content: 'Welcome!' },
      { role: 'user' as const, content: 'Do you deliver?' },
      { role: 'user' as const, content: 'To Porto?' },
      { role: 'assistant' as const, content: 'Yes, Monday to Saturday.' },
    ],
    botResponse: 'No.',
    humanResponse: 'Yes, Sundays too.',
  };

  it('gives Gemini alternating turns that start with the user, merging adjacent turns of one role', () => {
    const line = JSON.parse(formatTrainingLine('gemini', 'Be kind.', correction));
    expect(line).toEqual({
      systemInstruction: { role: 'system', parts: [{ text: 'Be kind.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Do you deliver?' }, { text: 'To Porto?' }] },
        { role: 'model', parts: [{ text: 'Yes, Monday to Saturday.' }] },
        { role: 'user', parts: [{ text: 'And on Sundays?' }] },
        { role: 'model', parts: [{ text: 'Yes, Sundays too.' }] },
      ],
    });
  });

  it('keeps the conversation as it was for OpenAI, with the human answer as the assistant turn', () => {
    const line = JSON.parse(formatTrainingLine('openai', 'Be kind.', correction));
    expect(line.messages).toHaveLength(7);
    expect(line.messages[0]).toEqual({ role: 'system', content: 'Be kind.' });
    expect(line.messages[6]).toEqual({ role: 'assistant', content: 'Yes, Sundays too.' });
    const preference = JSON.parse(formatTrainingLine('openai-preference', 'Be kind.', correction));
    expect(preference.input.messages).toEqual(line.messages.slice(0, 6));
    expect(preference.preferred_output).toEqual([{ role: 'assistant', content: 'Yes, Sundays too.' }]);
    expect(preference.non_preferred_output).toEqual([{ role: 'assistant', content: 'No.' }]);
  });

  it('escapes newlines and quotes so every correction stays on one line', () => {
    const line = formatTrainingLine('openai', 'x', { ...correction, humanResponse: 'Line one\nLine "two"' });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line).messages.at(-1).content).toBe('Line one\nLine "two"');
  });
});

describe('GET /v1/bot/corrections/export across batches', () => {
  const context = useTestContext({ truncate: false });

  it('streams every approved correction exactly once, oldest first, past the 500-row batch size', async () => {
    const { tenant } = await createTenant(context);
    // Many rows share one created_at, so batches must continue on (created_at, id), not created_at alone.
    await context.database.dataSource.query(
      `INSERT INTO corrections (tenant_id, customer_message, bot_response, human_response, correction_category,
         approved_for_training, quality_score, created_at)
       SELECT $1, 'Question ' || n, 'Wrong ' || n, 'Answer ' || n, 'other', true, 3, timestamptz '2026-01-01' + (n / 7) * interval '1 second'
       FROM generate_series(1, 1203) AS n`,
      [tenant.id],
    );
    const analyst = withKey(context, (await createApiKey(context, tenant, { scopes: ['analytics:view'] })).secret);
    const response = await analyst.get('/v1/bot/corrections/export?format=openai');
    expect(response.status).toBe(200);
    const lines = response.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { messages: Array<{ content: string }> });
    const answers = lines.map((line) => line.messages.at(-1)?.content);
    expect(answers).toHaveLength(1203);
    expect(new Set(answers).size).toBe(1203);
    expect(answers[0]).toMatch(/^Answer [1-6]$/);
  });
});

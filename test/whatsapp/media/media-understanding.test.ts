/**
 * Inbound media as customers send it, end to end: the signed webhook stores the media descriptors, the turn
 * downloads each MediaUrl from the fake Twilio server (basic auth, redirect to its storage), transcribes voice notes
 * through the fake OpenAI and Gemini servers before the agent runs, shows photos to a vision-capable model, and
 * answers honestly (with a flag for a person) whatever no provider can handle.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeGeminiServer, startFakeGemini } from '../../fakes/gemini-server';
import { type FakeOpenAIServer, startFakeOpenAI } from '../../fakes/openai-server';
import { type FakeTwilioServer, startFakeTwilio } from '../../fakes/twilio-server';
import { createApiKey, createTenant, inboundParams, postInbound, type TenantFixture } from '../../support/factories';
import { photo, voiceNote } from '../../support/media-fixtures';
import { buildPdf } from '../../knowledge/sources/pdf-fixtures';
import { createTestContext, type TestContext } from '../../support/test-context';
import { unsupportedMediaReply } from '../../../src/agent/unsupported-media';
import { MessageTranscribed1765100000000 } from '../../../migrations/1765100000000-MessageTranscribed';

const accountSid = `AC${'5'.repeat(32)}`;
const authToken = 'media-turn-token-0123456789';
const customer = 'whatsapp:+5511955550123';

let context: TestContext;
let openai: FakeOpenAIServer;
let gemini: FakeGeminiServer;
let twilio: FakeTwilioServer;

beforeAll(async () => {
  [openai, gemini, twilio] = await Promise.all([startFakeOpenAI(), startFakeGemini(), startFakeTwilio()]);
  context = await createTestContext({
    environment: {
      OPENAI_API_KEY: 'sk-platform',
      OPENAI_BASE_URL: openai.baseUrl,
      GEMINI_API_KEY: 'g-platform',
      GEMINI_BASE_URL: gemini.baseUrl,
      TWILIO_API_BASE_URL: twilio.url,
    },
  });
});
afterAll(async () => {
  await context.close();
  await Promise.all([openai.close(), gemini.close(), twilio.close()]);
});
beforeEach(async () => {
  await context.database.truncateAll();
  openai.book.reset();
  gemini.book.reset();
  twilio.reset();
  twilio.accounts.set(accountSid, authToken);
});

const shopWith = (settings: Record<string, unknown> = {}) =>
  createTenant(context, { credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken }, settings });

/** Posts a media message (one MediaUrl0) and runs the turn. */
async function sendMedia(shop: TenantFixture, media: { url: string; contentType: string }, caption = ''): Promise<void> {
  const params = inboundParams(shop, {
    From: customer,
    Body: caption,
    NumMedia: '1',
    MessageType: media.contentType.split('/')[0],
    MediaUrl0: media.url,
    MediaContentType0: media.contentType,
  });
  await postInbound(context, shop, params).expect(200);
  await context.services.processor.drain();
}

const query = <T = Record<string, unknown>>(sql: string, parameters: unknown[] = []): Promise<T[]> =>
  context.database.dataSource.query(sql, parameters);

const lastReply = async () =>
  (await query<{ body: string }>(`SELECT body FROM messages WHERE direction = 'outbound' ORDER BY seq DESC LIMIT 1`))[0]?.body;
const inbound = async () =>
  (
    await query<{ body: string; transcribed: boolean; media: Array<Record<string, unknown>> }>(
      `SELECT body, transcribed, media FROM messages WHERE direction = 'inbound' ORDER BY seq DESC LIMIT 1`,
    )
  )[0];
const flag = async () => (await query<{ flagged_reason: string | null }>('SELECT flagged_reason FROM conversations'))[0]?.flagged_reason;

describe('a voice note', () => {
  it('is transcribed before the agent runs; the transcript is the stored, marked text the agent answers', async () => {
    const shop = await shopWith();
    const url = twilio.addMedia(accountSid, { data: voiceNote('Where is my order 4417?', 5), contentType: 'audio/ogg' });
    await sendMedia(shop, { url, contentType: 'audio/ogg' });

    expect(openai.book.requests[0]).toMatchObject({ model: 'gpt-4o-mini-transcribe', path: '/v1/audio/transcriptions' });
    expect(openai.book.requests[0].body).toMatchObject({ fileContentType: 'audio/ogg', filename: 'voice-note.ogg' });
    const stored = await inbound();
    expect(stored.body).toBe('Where is my order 4417?');
    expect(stored.transcribed).toBe(true);
    expect(stored.media).toMatchObject([
      { kind: 'audio', outcome: 'transcribed', transcript: 'Where is my order 4417?', model: 'openai/gpt-4o-mini-transcribe' },
    ]);
    // The chat model was asked the transcript (the fakes echo the last user text).
    expect(await lastReply()).toContain('Where is my order 4417?');
    expect(await flag()).toBeNull();
    // 5 s at $0.003 a minute, read from the OGG container (gpt-4o-mini-transcribe reports tokens, not seconds).
    const [usage] = await query<{ model: string; cost_usd: string; success: boolean; metadata: Record<string, unknown> }>(
      `SELECT model, cost_usd, success, metadata FROM provider_usage WHERE model = 'gpt-4o-mini-transcribe'`,
    );
    expect(usage).toMatchObject({ success: true, metadata: { task: 'transcription', audioSeconds: 5 } });
    expect(usage.cost_usd).toBe('0.000250000000');
  });

  it('fails over to Gemini (audio as inline data) when OpenAI transcription fails', async () => {
    const shop = await shopWith();
    openai.book.fail('server_error', { model: 'gpt-4o-mini-transcribe' });
    const url = twilio.addMedia(accountSid, { data: voiceNote('¿Dónde está mi pedido?'), contentType: 'audio/ogg' });
    await sendMedia(shop, { url, contentType: 'audio/ogg' });

    const audioRequest = gemini.book.requests.find((entry) => JSON.stringify(entry.body).includes('"mimeType":"audio/ogg"'));
    expect(audioRequest?.model).toBe('gemini-2.0-flash');
    expect((await inbound()).body).toBe('¿Dónde está mi pedido?');
    const attempts = await query<{ model: string; success: boolean; was_failover: boolean; error_kind: string | null; cost_usd: string }>(
      `SELECT model, success, was_failover, error_kind, cost_usd FROM provider_usage
        WHERE metadata->>'task' = 'transcription' ORDER BY attempt_number`,
    );
    // Gemini bills tokens: 160 audio tokens at $0.70/M and 12 output tokens at $0.40/M.
    expect(attempts).toEqual([
      { model: 'gpt-4o-mini-transcribe', success: false, was_failover: false, error_kind: 'server', cost_usd: '0.000000000000' },
      { model: 'gemini-2.0-flash', success: true, was_failover: true, error_kind: null, cost_usd: '0.000116800000' },
    ]);
  });

  it('gets an honest reply in Spanish and a flag when every transcription provider fails', async () => {
    const shop = await shopWith({ language: 'es' });
    openai.book.fail('server_error', { times: 10 });
    gemini.book.fail('unavailable', { times: 10 });
    const url = twilio.addMedia(accountSid, { data: voiceNote('hola'), contentType: 'audio/ogg' });
    await sendMedia(shop, { url, contentType: 'audio/ogg' });
    expect(await lastReply()).toMatch(/no pude escuchar tu nota de voz/);
    expect(await flag()).toBe('unsupported_media');
    expect((await inbound()).media).toMatchObject([{ outcome: 'provider_failed' }]);
  });

  it('is transcribed once: a retried turn reuses the stored transcript', async () => {
    const shop = await shopWith();
    const url = twilio.addMedia(accountSid, { data: voiceNote('Cancel my subscription'), contentType: 'audio/ogg' });
    await sendMedia(shop, { url, contentType: 'audio/ogg' });
    // As if the worker had died after the transcript was stored and before the reply was.
    await query(`DELETE FROM messages WHERE direction = 'outbound'`);
    await query(`UPDATE messages SET status = 'received', processed_at = NULL WHERE direction = 'inbound'`);
    await context.services.processor.drain();
    expect((await inbound()).body).toBe('Cancel my subscription');
    expect(openai.book.requests.filter((entry) => entry.path === '/v1/audio/transcriptions')).toHaveLength(1);
    expect(twilio.mediaRequests).toHaveLength(2); // the first attempt's API request and redirect only
  });

  it('shows agents the transcript, marked as transcribed, in the conversation API', async () => {
    const shop = await shopWith();
    const url = twilio.addMedia(accountSid, { data: voiceNote('I want to change my address'), contentType: 'audio/ogg' });
    await sendMedia(shop, { url, contentType: 'audio/ogg' });
    const { secret } = await createApiKey(context, shop.tenant, { role: 'agent' });
    const [conversation] = await query<{ id: string }>('SELECT id FROM conversations');
    const thread = await request(context.app)
      .get(`/v1/bot/conversations/${conversation.id}`)
      .set('Authorization', `Bearer ${secret}`)
      .expect(200);
    const customerMessage = thread.body.messages.find((message: { author: string }) => message.author === 'customer');
    expect(customerMessage).toMatchObject({
      body: 'I want to change my address',
      transcribed: true,
      media: [{ kind: 'audio', outcome: 'transcribed' }],
    });
    // Twilio's media URL names the account: agents see the kind and outcome, not the URL.
    expect(customerMessage.media[0].url).toBeUndefined();
  });
  it("in AMR (no provider takes it) is never dropped: the friendly reply in the customer's language and a flag", async () => {
    const shop = await shopWith();
    await postInbound(context, shop, inboundParams(shop, { From: customer, Body: 'Hola, tengo un problema con mi pedido' })).expect(200);
    await context.services.processor.drain();
    const url = twilio.addMedia(accountSid, { data: Buffer.from('#!AMR\n\u0004'), contentType: 'audio/amr' });
    await sendMedia(shop, { url, contentType: 'audio/amr' });

    expect(await lastReply()).toBe(unsupportedMediaReply('', 'es', 'audio'));
    expect(await flag()).toBe('unsupported_media');
    expect((await inbound()).media).toMatchObject([
      { kind: 'audio', outcome: 'unsupported_type', detail: 'no transcription model takes audio/amr' },
    ]);
    // Neither downloaded nor sent to a provider: both would be wasted.
    expect(twilio.mediaRequests).toEqual([]);
    const transcriptions = [...openai.book.requests, ...gemini.book.requests].filter(
      (entry) => entry.path.includes('/audio/') || JSON.stringify(entry.body).includes('"mimeType":"audio/'),
    );
    expect(transcriptions).toEqual([]);
  });
});

describe('a photo', () => {
  // Only o3-mini (no vision) first in every tier: a photo must skip it for a model that can see.
  const blindFirst = {
    llm: {
      enabledProviders: ['openai'],
      tiers: {
        cheap: [
          { provider: 'openai', model: 'o3-mini' },
          { provider: 'openai', model: 'gpt-4o-mini' },
        ],
        balanced: [
          { provider: 'openai', model: 'o3-mini' },
          { provider: 'openai', model: 'gpt-4o' },
        ],
        reasoning: [{ provider: 'openai', model: 'o3-mini' }],
        longContext: [{ provider: 'openai', model: 'o3-mini' }],
      },
    },
  };

  it('goes with its caption to a vision-capable model, as an image_url data URL', async () => {
    const shop = await shopWith(blindFirst);
    const image = photo(3000);
    const url = twilio.addMedia(accountSid, { data: image, contentType: 'image/jpeg' });
    await sendMedia(shop, { url, contentType: 'image/jpeg' }, 'The box arrived broken');

    // Two calls: the answer, and alongside it the photo's description for the record.
    const isDescription = (entry: { body: Record<string, unknown> }) => JSON.stringify(entry.body).includes('Describe this customer');
    const chat = openai.book.requests.filter((entry) => entry.path.startsWith('/v1/chat/completions') && !isDescription(entry));
    expect(chat).toHaveLength(1);
    expect(openai.book.requests.filter(isDescription).map((entry) => entry.model)).toEqual(['gpt-4o-mini']);
    expect(['gpt-4o-mini', 'gpt-4o']).toContain(chat[0].model);
    const messages = chat[0].body.messages as Array<{ role: string; content: unknown }>;
    expect(messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'The box arrived broken' },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image.toString('base64')}` } },
      ],
    });
    expect(await lastReply()).toContain('The box arrived broken');
    const [interaction] = await query<{ routing: { skipped: Array<{ model: string; why: string }> } }>(
      'SELECT routing FROM agent_interactions',
    );
    expect(interaction.routing.skipped).toContainEqual({ model: 'openai/o3-mini', why: 'no_vision' });
    // The description is kept (the fake echoes the caption it was given); the photo is not.
    expect((await inbound()).media).toMatchObject([
      {
        kind: 'image',
        outcome: 'shown_to_model',
        bytes: 3000,
        description: 'echo: Caption: The box arrived broken',
        model: 'openai/gpt-4o-mini',
      },
    ]);
    const [descriptionUsage] = await query<{ success: boolean; cost_usd: string }>(
      `SELECT success, cost_usd FROM provider_usage WHERE metadata->>'task' = 'image_description'`,
    );
    expect(descriptionUsage.success).toBe(true);
    expect(Number(descriptionUsage.cost_usd)).toBeGreaterThan(0);
  });

  it('goes to Gemini as inline data', async () => {
    const shop = await shopWith({ llm: { enabledProviders: ['gemini'] } });
    const image = photo(1000);
    const url = twilio.addMedia(accountSid, { data: image, contentType: 'image/png' });
    await sendMedia(shop, { url, contentType: 'image/png' }, 'Is this the right charger?');
    const last = gemini.book.requests.find((entry) => !JSON.stringify(entry.body).includes('Describe this customer'))!;
    const contents = last.body.contents as Array<{ role: string; parts: unknown[] }>;
    expect(contents.at(-1)?.parts).toEqual([
      { text: 'Is this the right charger?' },
      { inlineData: { mimeType: 'image/png', data: image.toString('base64') } },
    ]);
  });

  it('stays in the history as its description once the photo itself is gone', async () => {
    const shop = await shopWith({ llm: { enabledProviders: ['openai'] } });
    openai.book.answer = (recorded, lastUserText) =>
      JSON.stringify(recorded.body).includes('Describe this customer')
        ? { text: 'A cardboard box with a crushed corner; label reads order 4417.' }
        : { text: `echo: ${lastUserText}` };
    const url = twilio.addMedia(accountSid, { data: photo(500), contentType: 'image/jpeg' });
    await sendMedia(shop, { url, contentType: 'image/jpeg' });
    await postInbound(context, shop, inboundParams(shop, { From: customer, Body: 'Can you replace it?' })).expect(200);
    await context.services.processor.drain();
    const followUp = openai.book.requests.at(-1)!;
    const messages = followUp.body.messages as Array<{ role: string; content: unknown }>;
    expect(messages).toContainEqual({ role: 'user', content: '[Photo: A cardboard box with a crushed corner; label reads order 4417.]' });
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'Can you replace it?' });
  });

  it('with no provider able to see it: a friendly reply, a flag, and no download', async () => {
    const shop = await shopWith({ llm: { enabledProviders: [] } });
    const url = twilio.addMedia(accountSid, { data: photo(), contentType: 'image/jpeg' });
    await sendMedia(shop, { url, contentType: 'image/jpeg' });
    expect(await lastReply()).toMatch(/can't see photos right now/);
    expect(await flag()).toBe('unsupported_media');
    expect(twilio.mediaRequests).toEqual([]);
    expect((await inbound()).media).toMatchObject([{ kind: 'image', outcome: 'no_provider' }]);
  });

  it('too large to download: a friendly reply and a flag, no model asked', async () => {
    const shop = await shopWith();
    const url = twilio.addMedia(accountSid, { data: photo(5 * 1024 * 1024 + 1), contentType: 'image/jpeg' });
    await sendMedia(shop, { url, contentType: 'image/jpeg' });
    expect(await lastReply()).toMatch(/can't see photos right now/);
    expect(await flag()).toBe('unsupported_media');
    expect((await inbound()).media).toMatchObject([{ outcome: 'download_failed', detail: 'too_large' }]);
    expect(openai.book.requests.length + gemini.book.requests.length).toBe(0);
  });
});

describe('a PDF document', () => {
  // Replies from OpenAI only, so the chat request the agent made can be read from one fake.
  const OPENAI_CHAT = { llm: { enabledProviders: ['openai'] } };
  const invoice = () =>
    buildPdf({ title: 'Invoice 4417', pages: [[{ text: 'Invoice 4417', size: 20 }, { text: 'Total due: 129.90 EUR by 15 December' }]] });
  const userMessagesOfChat = (index: number) =>
    (
      openai.book.requests.filter((entry) => entry.path.startsWith('/v1/chat/completions'))[index].body.messages as Array<{
        role: string;
        content: string;
      }>
    )
      .filter((message) => message.role === 'user')
      .map((message) => message.content);

  it("is read: the agent gets its text with the caption, marked as the customer's document, and nothing is flagged", async () => {
    const shop = await shopWith(OPENAI_CHAT);
    const url = twilio.addMedia(accountSid, { data: invoice(), contentType: 'application/pdf' });
    await sendMedia(shop, { url, contentType: 'application/pdf' }, 'Is this paid?');

    const [asked] = userMessagesOfChat(0).slice(-1);
    expect(asked).toContain('Is this paid?');
    expect(asked).toContain('[Text extracted from a PDF document "Invoice 4417" the customer sent.');
    expect(asked).toContain('Total due: 129.90 EUR by 15 December');
    const stored = await inbound();
    // The stored body is what the customer typed; the text is kept in the descriptor (the file is not).
    expect(stored.body).toBe('Is this paid?');
    expect(stored.media).toMatchObject([{ kind: 'document', outcome: 'text_extracted', title: 'Invoice 4417' }]);
    expect(stored.media[0].text).toContain('Total due: 129.90 EUR');
    expect(await flag()).toBeNull();
  });

  it("never becomes the business's knowledge: no document is stored for the tenant", async () => {
    const shop = await shopWith(OPENAI_CHAT);
    const url = twilio.addMedia(accountSid, { data: invoice(), contentType: 'application/pdf' });
    await sendMedia(shop, { url, contentType: 'application/pdf' });
    expect(await lastReply()).toContain('Total due: 129.90 EUR');
    expect(await query('SELECT id FROM knowledge_documents')).toEqual([]);
    expect(await query('SELECT id FROM knowledge_chunks')).toEqual([]);
  });

  it("stays in the conversation's history: a later question about it is asked with its text", async () => {
    const shop = await shopWith(OPENAI_CHAT);
    const url = twilio.addMedia(accountSid, { data: invoice(), contentType: 'application/pdf' });
    await sendMedia(shop, { url, contentType: 'application/pdf' });
    await postInbound(context, shop, inboundParams(shop, { From: customer, Body: 'When is it due?' })).expect(200);
    await context.services.processor.drain();
    const history = userMessagesOfChat(1);
    expect(history.at(-1)).toBe('When is it due?');
    expect(history.some((content) => content.includes('Total due: 129.90 EUR by 15 December'))).toBe(true);
  });

  it('with no text to read (a scan) gets the polite reply and is flagged for a person', async () => {
    const shop = await shopWith(OPENAI_CHAT);
    const url = twilio.addMedia(accountSid, { data: buildPdf({ pages: [[]] }), contentType: 'application/pdf' });
    await sendMedia(shop, { url, contentType: 'application/pdf' });
    expect(await lastReply()).toMatch(/received your document. I couldn't read its text/);
    expect(await flag()).toBe('document_received');
    expect((await inbound()).media).toMatchObject([{ outcome: 'unreadable', detail: 'no_text' }]);
    expect(openai.book.requests.length + gemini.book.requests.length).toBe(0);
  });

  it('protected by a password: the agent answers the caption, told a colleague will read the PDF, and it is flagged', async () => {
    const shop = await shopWith(OPENAI_CHAT);
    const url = twilio.addMedia(accountSid, {
      data: buildPdf({ pages: [[{ text: 'Secret' }]], encrypted: true }),
      contentType: 'application/pdf',
    });
    await sendMedia(shop, { url, contentType: 'application/pdf' }, 'Hola, les mando la factura de mi pedido');
    // With a caption, the agent answers it and is told a colleague will read the PDF.
    expect(userMessagesOfChat(0).at(-1)).toContain('could not be read; a colleague will review it');
    expect(await flag()).toBe('document_received');
    expect((await inbound()).media).toMatchObject([{ outcome: 'unreadable', detail: 'encrypted' }]);
  });

  it('too large to read (over 10 MB) is not parsed: the polite reply and the flag', async () => {
    const shop = await shopWith(OPENAI_CHAT);
    const large = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(10 * 1024 * 1024)]);
    const url = twilio.addMedia(accountSid, { data: large, contentType: 'application/pdf' });
    await sendMedia(shop, { url, contentType: 'application/pdf' });
    expect(await lastReply()).toMatch(/received your document/);
    expect(await flag()).toBe('document_received');
    expect((await inbound()).media).toMatchObject([{ outcome: 'download_failed', detail: 'too_large' }]);
  });
});

describe('other media', () => {
  it('a video gets the honest "cannot open" reply and a flag', async () => {
    const shop = await shopWith();
    const url = twilio.addMedia(accountSid, { data: Buffer.from('video'), contentType: 'video/mp4' });
    await sendMedia(shop, { url, contentType: 'video/mp4' });
    expect(await lastReply()).toMatch(/can't open this kind of file/);
    expect(await flag()).toBe('unsupported_media');
    expect(openai.book.requests.length + gemini.book.requests.length).toBe(0);
  });
});

describe('migration 1765100000000 (messages.transcribed)', () => {
  it('goes down and up again', async () => {
    const runner = context.database.dataSource.createQueryRunner();
    const migration = new MessageTranscribed1765100000000();
    const hasColumn = async () =>
      (await query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'transcribed'`)).length === 1;
    try {
      await migration.down(runner);
      expect(await hasColumn()).toBe(false);
      await migration.up(runner);
      expect(await hasColumn()).toBe(true);
    } finally {
      await runner.release();
    }
  });
});

import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { Message } from '../../src/db/entities/message';
import {
  createKnowledge,
  createTenant,
  inboundParams,
  messageSid,
  postInbound,
  signTwilio,
  type TenantFixture,
} from '../support/factories';
import { useTestContext } from '../support/test-context';

const PATH = '/v1/webhooks/twilio/whatsapp';

describe('POST /v1/webhooks/twilio/whatsapp', () => {
  const context = useTestContext();
  let shop: TenantFixture;

  beforeEach(async () => {
    shop = await createTenant(context);
    await createKnowledge(context, shop.tenant, [
      { question: 'What are your opening hours?', answer: 'We open 9 to 5, Monday to Friday.' },
      { question: 'What is your refund policy?', answer: 'Full refund within 30 days.' },
    ]);
  });

  const messages = () => context.database.dataSource.manager.find(Message, { order: { seq: 'ASC' } });

  it('acknowledges at once with empty TwiML and stores the message with its raw payload', async () => {
    const params = inboundParams(shop, { Body: 'What are your opening hours?', ProfileName: 'Ana' });
    const response = await postInbound(context, shop, params);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(response.headers['content-length']).toBe('49');
    expect(response.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    const [stored] = await messages();
    expect(stored).toMatchObject({
      direction: 'inbound',
      status: 'received',
      body: 'What are your opening hours?',
      messageSid: params.MessageSid,
    });
    expect(stored.rawPayload).toMatchObject({ ProfileName: 'Ana', WaId: '14155550100', SmsStatus: 'received' });
  });

  it('answers asynchronously from the knowledge base through the offline provider', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'what are the opening hours?' })).expect(200);
    await context.services.processor.drain();
    const [inbound, reply] = await messages();
    expect(inbound.status).toBe('replied');
    expect(reply).toMatchObject({
      direction: 'outbound',
      author: 'bot',
      status: 'simulated',
      body: 'We open 9 to 5, Monday to Friday.',
      replyToMessageId: inbound.id,
    });
    const [interaction] = await context.database.dataSource.query('SELECT * FROM agent_interactions');
    expect(interaction).toMatchObject({
      provider: 'offline',
      model: 'offline-v1',
      inbound_message_id: inbound.id,
      reply_message_id: reply.id,
    });
  });

  it('keeps media, button and reply parameters', async () => {
    const params = inboundParams(shop, {
      Body: '',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/media/ME1',
      MediaContentType0: 'image/jpeg',
      ButtonPayload: 'payload-1',
      ButtonText: 'Yes',
      OriginalRepliedMessageSid: messageSid(),
      MessageType: 'button',
    });
    await postInbound(context, shop, params).expect(200);
    const [stored] = await messages();
    expect(stored.media).toEqual([{ url: 'https://api.twilio.com/media/ME1', contentType: 'image/jpeg' }]);
    expect(stored).toMatchObject({
      buttonPayload: 'payload-1',
      buttonText: 'Yes',
      messageType: 'button',
      repliedToSid: params.OriginalRepliedMessageSid,
    });
  });

  it('answers a Twilio retry of the same MessageSid once', async () => {
    const params = inboundParams(shop, { Body: 'refund?' });
    await postInbound(context, shop, params).expect(200);
    await postInbound(context, shop, params).expect(200);
    await context.services.processor.drain();
    await postInbound(context, shop, params).expect(200);
    await context.services.processor.drain();
    const rows = await messages();
    expect(rows.filter((row) => row.direction === 'inbound')).toHaveLength(1);
    expect(rows.filter((row) => row.direction === 'outbound')).toHaveLength(1);
  });

  it('rejects a missing signature with 403', async () => {
    const response = await request(context.app).post(PATH).type('form').send(inboundParams(shop));
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ error: { code: 'invalid_signature', message: 'Missing X-Twilio-Signature' } });
    expect(await messages()).toHaveLength(0);
  });

  it('rejects a wrong signature with 403, including one made for another URL or with another token', async () => {
    const params = inboundParams(shop);
    for (const signature of [
      'bm90LWEtc2lnbmF0dXJl',
      signTwilio(shop.credentials.twilioAuthToken, `https://attacker.example${PATH}`, params),
      signTwilio('another-token', `${context.config.publicBaseUrl}${PATH}`, params),
    ]) {
      const response = await request(context.app).post(PATH).type('form').set('X-Twilio-Signature', signature).send(params);
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('invalid_signature');
    }
    expect(await messages()).toHaveLength(0);
  });

  it('ignores forwarded headers when checking the signature', async () => {
    const params = inboundParams(shop);
    const forged = signTwilio(shop.credentials.twilioAuthToken, `https://evil.example${PATH}`, params);
    const response = await request(context.app)
      .post(PATH)
      .type('form')
      .set('X-Twilio-Signature', forged)
      .set('X-Forwarded-Host', 'evil.example')
      .set('X-Forwarded-Proto', 'https')
      .send(params);
    expect(response.status).toBe(403);
  });

  it('returns 404 for a number no tenant owns', async () => {
    const params = inboundParams(shop, { To: 'whatsapp:+19995550000' });
    const response = await postInbound(context, shop, params);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('rejects a non-form body with 415 and a malformed one with 400', async () => {
    const json = await request(context.app).post(PATH).set('content-type', 'application/json').send('{"To":"x"}');
    expect(json.status).toBe(415);
    expect(json.body.error.code).toBe('unsupported_media_type');
    const missingSid = inboundParams(shop);
    delete (missingSid as Record<string, string | undefined>).MessageSid;
    const invalid = await postInbound(context, shop, missingSid);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'validation_failed' });
    const noTo = await request(context.app).post(PATH).type('form').send('Body=hi');
    expect(noTo.status).toBe(400);
    expect(await messages()).toHaveLength(0);
  });

  it('rejects an oversized body with 413 without storing anything', async () => {
    const params = inboundParams(shop, { Body: 'x'.repeat(70_000) });
    const response = await postInbound(context, shop, params);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
    expect(await messages()).toHaveLength(0);
  });

  it('rejects a body over 4,096 characters that still fits the size limit with 400', async () => {
    const response = await postInbound(context, shop, inboundParams(shop, { Body: 'y'.repeat(5_000) }));
    expect(response.status).toBe(400);
    expect(await messages()).toHaveLength(0);
  });
});

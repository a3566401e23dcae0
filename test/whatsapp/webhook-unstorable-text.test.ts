/**
 * Twilio's webhooks carrying text PostgreSQL cannot store (NUL, U+0000). Twilio does not retry a 5xx on a message
 * webhook, so refusing it would lose the customer's message: it is stored with NUL removed, and acknowledged.
 */
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { Message } from '../../src/db/entities/message';
import { createTenant, inboundParams, messageSid, postInbound, signTwilio, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

describe('Twilio webhooks with NUL characters', () => {
  const context = useTestContext();
  let shop: TenantFixture;

  beforeEach(async () => {
    shop = await createTenant(context);
  });

  const inbound = () => context.database.dataSource.manager.find(Message, { where: { direction: 'inbound' }, order: { seq: 'ASC' } });

  it('stores and acknowledges a message whose Body, ProfileName, media and extra fields carry NUL, with NUL removed', async () => {
    const params = inboundParams(shop, {
      Body: 'Where is\u0000 my order?\u0000',
      ProfileName: 'A\u0000na',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/media/\u0000ME1',
      MediaContentType0: 'image/jpeg\u0000',
      ButtonText: 'Y\u0000es',
      Extra: 'x\u0000y',
      'Odd\u0000Name': 'z',
    });
    const response = await postInbound(context, shop, params);
    expect(response.status).toBe(200);
    expect(response.text).toContain('<Response/>');
    const [stored] = await inbound();
    expect(stored).toMatchObject({ messageSid: params.MessageSid, body: 'Where is my order?', buttonText: 'Yes' });
    expect(stored.media).toEqual([{ url: 'https://api.twilio.com/media/ME1', contentType: 'image/jpeg' }]);
    expect(stored.rawPayload).toMatchObject({
      Body: 'Where is my order?',
      ProfileName: 'Ana',
      Extra: 'xy',
      OddName: 'z',
      SmsStatus: 'received',
    });
    const [customer] = await context.database.dataSource.query('SELECT profile_name, whatsapp_address FROM customers');
    expect(customer).toEqual({ profile_name: 'Ana', whatsapp_address: 'whatsapp:+14155550100' });
  });

  it('answers the cleaned message like any other', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hel\u0000lo', ProfileName: '\u0000' })).expect(200);
    await context.services.processor.drain();
    const [message] = await inbound();
    expect(message).toMatchObject({ body: 'hello', status: 'replied' });
  });

  it('keeps a genuine parameter when a parameter name only differs from it by NUL', async () => {
    const params = inboundParams(shop, { Body: 'real text', 'Bo\u0000dy': 'smuggled' });
    await postInbound(context, shop, params).expect(200);
    const [stored] = await inbound();
    expect(stored.body).toBe('real text');
    expect(stored.rawPayload).toMatchObject({ Body: 'real text' });
  });

  it('still checks the signature over the parameters as sent, NUL included', async () => {
    const params = inboundParams(shop, { Body: 'hi\u0000' });
    const path = '/v1/webhooks/twilio/whatsapp';
    const signedWithoutNul = signTwilio(shop.credentials.twilioAuthToken, `${context.config.publicBaseUrl}${path}`, {
      ...params,
      Body: 'hi',
    });
    const response = await request(context.app).post(path).type('form').set('X-Twilio-Signature', signedWithoutNul).send(params);
    expect(response.status).toBe(403);
    expect(await inbound()).toEqual([]);
  });

  it('records a status callback whose MessageSid and ErrorCode carry NUL', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    await context.services.processor.drain();
    const sid = messageSid();
    await context.database.dataSource.query(`UPDATE messages SET message_sid = $1, status = 'sent' WHERE direction = 'outbound'`, [sid]);
    const path = '/v1/webhooks/twilio/status';
    const params = { MessageSid: `${sid}\u0000`, From: shop.address, MessageStatus: 'undelivered', ErrorCode: '630\u000024' };
    const signature = signTwilio(shop.credentials.twilioAuthToken, `${context.config.publicBaseUrl}${path}`, params);
    const response = await request(context.app).post(path).type('form').set('X-Twilio-Signature', signature).send(params);
    expect(response.status).toBe(204);
    const [reply] = await context.database.dataSource.manager.find(Message, { where: { direction: 'outbound' } });
    expect(reply).toMatchObject({ messageSid: sid, status: 'undelivered', errorCode: '63024' });
  });
});

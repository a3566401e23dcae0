/**
 * A voice note with no provider able to transcribe it (this tenant has no model keys): an honest reply in the
 * customer's language, the conversation flagged for a person, no download attempted and no model asked to answer an
 * empty turn. (With keys, see media-understanding.test.ts.)
 */
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { useTestContext } from '../support/test-context';

const replies = echoReplies();
const context = useTestContext({ replies });
let shop: TenantFixture;
const customer = 'whatsapp:+5491155550123';

beforeEach(async () => {
  replies.calls.length = 0;
  shop = await createTenant(context);
});

const voiceNote = () =>
  inboundParams(shop, {
    From: customer,
    Body: '',
    NumMedia: '1',
    MessageType: 'audio',
    MediaUrl0: 'https://api.twilio.com/2010-04-01/Accounts/AC00/Messages/MM00/Media/ME00',
    MediaContentType0: 'audio/ogg',
  });

async function send(params: Record<string, string>): Promise<void> {
  await postInbound(context, shop, params).expect(200);
  await context.services.processor.drain();
}

async function lastReply(): Promise<string> {
  const [row] = await context.database.dataSource.query(`SELECT body FROM messages WHERE direction = 'outbound' ORDER BY seq DESC LIMIT 1`);
  return row.body;
}

describe('a media-only message', () => {
  it('gets an honest reply, is flagged for a person, and no model is asked', async () => {
    await send(voiceNote());
    expect(await lastReply()).toMatch(/couldn't listen to your voice note/);
    expect(replies.calls).toHaveLength(0);
    const [conversation] = await context.database.dataSource.query('SELECT flagged_reason, flagged_at FROM conversations');
    expect(conversation.flagged_reason).toBe('unsupported_media');
    expect(conversation.flagged_at).not.toBeNull();
    const [inbound] = await context.database.dataSource.query(`SELECT status FROM messages WHERE direction = 'inbound'`);
    expect(inbound.status).toBe('replied');
    const [stored] = await context.database.dataSource.query(`SELECT media FROM messages WHERE direction = 'inbound'`);
    expect(stored.media).toMatchObject([{ kind: 'audio', outcome: 'no_provider' }]);
  });

  it("answers in the customer's language, guessed from their earlier messages", async () => {
    await send(inboundParams(shop, { From: customer, Body: 'Hola, buenos días, quiero saber dónde está mi pedido por favor' }));
    await send(voiceNote());
    expect(await lastReply()).toMatch(/no pude escuchar tu nota de voz/);
  });

  it('keeps answering in Spanish after an earlier voice note that could not be transcribed', async () => {
    await send(inboundParams(shop, { From: customer, Body: 'Hola, buenos días, quiero saber dónde está mi pedido por favor' }));
    await send(voiceNote());
    await send(voiceNote());
    expect(await lastReply()).toMatch(/no pude escuchar tu nota de voz/);
  });

  it('shows agents the flagged conversation, and clears the flag once an agent answers', async () => {
    await send(voiceNote());
    const { secret } = await createApiKey(context, shop.tenant, { role: 'agent' });
    const flagged = await request(context.app)
      .get('/v1/bot/conversations?flagged=true')
      .set('Authorization', `Bearer ${secret}`)
      .expect(200);
    expect(flagged.body.data).toMatchObject([{ flag: { reason: 'unsupported_media' } }]);
    await request(context.app)
      .post(`/v1/bot/conversations/${flagged.body.data[0].id}/messages`)
      .set('Authorization', `Bearer ${secret}`)
      .send({ body: 'Hi! I listened to your note: your parcel leaves today.' })
      .expect(201);
    const after = await request(context.app).get('/v1/bot/conversations?flagged=true').set('Authorization', `Bearer ${secret}`).expect(200);
    expect(after.body.data).toEqual([]);
  });
});

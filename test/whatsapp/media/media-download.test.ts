/**
 * Downloading a customer's media from Twilio: with the tenant's credentials as HTTP basic auth, redirects followed
 * only to Twilio's media hosts (and never with the credentials to another host), a size cap and a content-type
 * allowlist. Against the fake Twilio server, whose media URLs demand basic auth and redirect to its storage.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MediaDownloader } from '../../../src/whatsapp/media/media-download';
import { oggDurationSeconds } from '../../../src/whatsapp/media/ogg-duration';
import { startFakeTwilio, type FakeTwilioServer } from '../../fakes/twilio-server';
import { photo, voiceNote } from '../../support/media-fixtures';

const accountSid = `AC${'7'.repeat(32)}`;
const authToken = 'media-token-0123456789';
const credentials = { accountSid, authToken };

let twilio: FakeTwilioServer;
let downloader: MediaDownloader;

beforeAll(async () => {
  twilio = await startFakeTwilio();
  twilio.accounts.set(accountSid, authToken);
  downloader = new MediaDownloader({ apiBaseUrl: twilio.url, requireHttps: false });
});
afterAll(async () => {
  await downloader.close();
  await twilio.close();
});
beforeEach(() => {
  twilio.reset();
  twilio.accounts.set(accountSid, authToken);
});

describe('MediaDownloader.download', () => {
  it('fetches a voice note with basic auth, following the redirect to the media storage', async () => {
    const audio = voiceNote('hola');
    const url = twilio.addMedia(accountSid, { data: audio, contentType: 'audio/ogg' });
    const download = await downloader.download(url, 'audio', credentials);
    expect(download).toEqual({ ok: true, data: audio, mediaType: 'audio/ogg' });
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    expect(twilio.mediaRequests.map((request) => request.authorization)).toEqual([expected, expected]);
  });

  it('reports refused credentials without retrying', async () => {
    const url = twilio.addMedia(accountSid, { data: photo(), contentType: 'image/jpeg' });
    const download = await downloader.download(url, 'image', { accountSid, authToken: 'wrong' });
    expect(download).toMatchObject({ ok: false, failure: 'refused' });
    expect(twilio.mediaRequests).toHaveLength(1);
  });

  it('refuses a redirect to a host that is not Twilio, without contacting it', async () => {
    const url = twilio.addMedia(accountSid, { data: photo(), contentType: 'image/jpeg', redirect: 'https://attacker.example/steal' });
    const download = await downloader.download(url, 'image', credentials);
    expect(download).toMatchObject({ ok: false, failure: 'forbidden_host' });
  });

  it('never sends the credentials to a MediaUrl outside Twilio', async () => {
    const download = await downloader.download('https://attacker.example/2010-04-01/Media/ME1', 'image', credentials);
    expect(download).toMatchObject({ ok: false, failure: 'forbidden_host' });
    expect(twilio.mediaRequests).toEqual([]);
  });

  it('drops the basic-auth header when the redirect leads to another (allowed) host', async () => {
    const seen: Array<string | undefined> = [];
    const storage = http.createServer((request, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(photo(64));
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    const storageHost = `127.0.0.1:${(storage.address() as AddressInfo).port}`;
    const crossHost = new MediaDownloader({ apiBaseUrl: twilio.url, requireHttps: false, extraMediaHosts: [storageHost] });
    try {
      const url = twilio.addMedia(accountSid, { data: photo(), contentType: 'image/png', redirect: `http://${storageHost}/media/ME1` });
      const download = await crossHost.download(url, 'image', credentials);
      expect(download).toMatchObject({ ok: true, mediaType: 'image/png' });
      expect(seen).toEqual([undefined]);
    } finally {
      await crossHost.close();
      storage.closeAllConnections();
      await new Promise<void>((resolve) => storage.close(() => resolve()));
    }
  });

  it('refuses media larger than the cap of its kind', async () => {
    const capped = new MediaDownloader({ apiBaseUrl: twilio.url, requireHttps: false, maxBytes: { image: 1024 } });
    try {
      const url = twilio.addMedia(accountSid, { data: photo(4096), contentType: 'image/jpeg' });
      expect(await capped.download(url, 'image', credentials)).toMatchObject({ ok: false, failure: 'too_large' });
    } finally {
      await capped.close();
    }
  });

  it('refuses a response whose content type is not one of the kind', async () => {
    const url = twilio.addMedia(accountSid, {
      data: Buffer.from('<html></html>'),
      contentType: 'image/jpeg',
      servedContentType: 'text/html',
    });
    expect(await downloader.download(url, 'image', credentials)).toMatchObject({ ok: false, failure: 'wrong_type' });
  });
});

describe('MediaDownloader.isMediaHost', () => {
  const production = new MediaDownloader({ requireHttps: true });
  it.each([
    ['https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1', true],
    ['https://mms.twiliocdn.com/AC1/abc', true],
    ['https://media.twiliocdn.com/AC1/abc', true],
    ['https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/abc', true],
    ['http://mms.twiliocdn.com/AC1/abc', false],
    ['https://twiliocdn.com.attacker.example/abc', false],
    ['https://attacker.example/abc', false],
  ])('%s -> %s', (url, allowed) => {
    expect(production.isMediaHost(new URL(url))).toBe(allowed);
  });
});

describe('oggDurationSeconds', () => {
  it('reads an Opus voice note length from its last page, less the pre-skip', () => {
    expect(oggDurationSeconds(voiceNote('hi', 7))).toBe(7);
  });
  it('is undefined for bytes that are not OGG', () => {
    expect(oggDurationSeconds(photo())).toBeUndefined();
  });
});

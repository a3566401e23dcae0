import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isValidTwilioSignature } from '../../src/whatsapp/twilio-client';

interface Vectors {
  authToken: string;
  baseParams: Record<string, string>;
  cases: Array<{ name: string; url: string; params?: 'baseParams' | Record<string, string | string[]>; body?: string; signature: string }>;
  whatsappExample: { authToken: string; url: string; params: Record<string, string>; signature: string };
}

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/twilio-signature-vectors.json'), 'utf8')) as Vectors;

describe("Twilio's official signature vectors", () => {
  for (const vector of vectors.cases.filter((entry) => entry.params !== undefined)) {
    it(`accepts the "${vector.name}" vector and rejects it with a wrong token`, () => {
      const params = vector.params === 'baseParams' ? vectors.baseParams : (vector.params as Record<string, string | string[]>);
      expect(isValidTwilioSignature(vectors.authToken, vector.signature, vector.url, params)).toBe(true);
      expect(isValidTwilioSignature('wrong-token', vector.signature, vector.url, params)).toBe(false);
    });
  }

  it('accepts the WhatsApp-shaped example and rejects a tampered body', () => {
    const { authToken, url, params, signature } = vectors.whatsappExample;
    expect(isValidTwilioSignature(authToken, signature, url, params)).toBe(true);
    expect(isValidTwilioSignature(authToken, signature, url, { ...params, Body: 'hi!' })).toBe(false);
    expect(isValidTwilioSignature(authToken, signature, 'https://evil.example.com/whatsapp', params)).toBe(false);
  });
});

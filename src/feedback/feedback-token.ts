/**
 * Short signed feedback tokens: they name an agent interaction and are valid only for the tenant they were issued
 * for. They ride in WhatsApp button payloads and are what `POST /v1/bot/feedback/submit` verifies, so nobody can
 * rate another tenant's (or an invented) interaction.
 */
import crypto from 'node:crypto';
import { deriveKey } from '../crypto/secrets';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 16 bytes of interaction id and 12 bytes of MAC, base64url: 22 + 1 + 16 characters. */
const TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{16})$/;
const MAC_BYTES = 12;

/** The HMAC key for feedback tokens, derived from the app encryption key (never the key itself). */
export function feedbackTokenKey(appEncryptionKey: Buffer): Buffer {
  return deriveKey(appEncryptionKey, 'feedback-token');
}

function mac(key: Buffer, tenantId: string, interactionId: string): Buffer {
  return crypto
    .createHmac('sha256', key)
    .update(`${tenantId.toLowerCase()}:${interactionId.toLowerCase()}`)
    .digest()
    .subarray(0, MAC_BYTES);
}

/** A token binding `interactionId` to `tenantId`. */
export function issueFeedbackToken(key: Buffer, tenantId: string, interactionId: string): string {
  if (!UUID.test(interactionId)) throw new Error('interactionId must be a UUID');
  const idBytes = Buffer.from(interactionId.replace(/-/g, ''), 'hex');
  return `${idBytes.toString('base64url')}.${mac(key, tenantId, interactionId).toString('base64url')}`;
}

/** The interaction id the token names, when it was issued for `tenantId` with this key; null otherwise. */
export function verifyFeedbackToken(key: Buffer, tenantId: string, token: string): string | null {
  const match = TOKEN.exec(token);
  if (!match) return null;
  const hex = Buffer.from(match[1], 'base64url').toString('hex');
  if (hex.length !== 32) return null;
  const interactionId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const presented = Buffer.from(match[2], 'base64url');
  const expected = mac(key, tenantId, interactionId);
  return presented.length === expected.length && crypto.timingSafeEqual(presented, expected) ? interactionId : null;
}

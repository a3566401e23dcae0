/** AES-256-GCM for secrets at rest, SHA-256 for API keys, and random tokens. */
import crypto from 'node:crypto';

const VERSION = 'v1';

/** Encrypts UTF-8 text as "v1.<iv>.<tag>.<ciphertext>" (base64url parts). */
export function encryptSecret(key: Buffer, plaintext: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/** Decrypts what encryptSecret produced; throws when the key is wrong or the data was tampered with. */
export function decryptSecret(key: Buffer, sealed: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new Error('Unrecognised secret format');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}

/** Hex SHA-256. */
export function sha256Hex(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}

/** A URL-safe random token of `bytes` bytes of entropy. */
export function randomToken(bytes = 24): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** Derives a purpose-specific 32-byte key from the app key (HKDF), so one secret never serves two uses. */
export function deriveKey(appKey: Buffer, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', appKey, Buffer.alloc(0), `parley:${purpose}`, 32));
}

/** Constant-time string comparison. */
export function safeEqual(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

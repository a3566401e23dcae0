import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret } from '../../src/crypto/secrets';
import { createTenant } from '../support/factories';
import { useTestContext } from '../support/test-context';

describe('tenant secrets at rest', () => {
  const context = useTestContext({ truncate: false });

  it('stores Twilio and provider credentials only as AES-256-GCM ciphertext', async () => {
    const { tenant } = await createTenant(context, {
      credentials: { twilioAccountSid: `AC${'1'.repeat(32)}`, twilioAuthToken: 'token-plaintext-123', openaiApiKey: 'sk-plaintext-456' },
    });
    const [row] = await context.database.dataSource.query('SELECT * FROM tenants WHERE id = $1', [tenant.id]);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain('token-plaintext-123');
    expect(stored).not.toContain('sk-plaintext-456');
    expect(stored).not.toContain('1'.repeat(32));
    const resolved = await context.services.tenants.findById(tenant.id);
    expect(resolved?.credentials).toMatchObject({ twilioAuthToken: 'token-plaintext-123', openaiApiKey: 'sk-plaintext-456' });
  });

  it('refuses ciphertext that was tampered with or sealed under another key', () => {
    const key = crypto.randomBytes(32);
    const sealed = encryptSecret(key, 'secret');
    expect(decryptSecret(key, sealed)).toBe('secret');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3], 'base64url');
    flipped[0] ^= 1;
    expect(() => decryptSecret(key, [...parts.slice(0, 3), flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => decryptSecret(crypto.randomBytes(32), sealed)).toThrow();
  });
});

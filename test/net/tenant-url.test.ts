import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkTenantUrl, checkTenantUrlAddresses, parseAllowedHost, type Resolver, tenantUrlSchema } from '../../src/net/tenant-url';

const production = { requireHttps: true };
const development = { requireHttps: false };

const reasonOf = (value: string, policy: Parameters<typeof checkTenantUrl>[1] = production) => {
  const checked = checkTenantUrl(value, policy);
  return checked.ok ? null : checked.reason;
};

describe('checkTenantUrl', () => {
  it('accepts a public https URL', () => {
    const checked = checkTenantUrl('https://hooks.example.com/parley?tenant=1', production);
    expect(checked.ok && checked.url.hostname).toBe('hooks.example.com');
  });

  it('requires https in production and allows http elsewhere', () => {
    expect(reasonOf('http://hooks.example.com/')).toBe('must use https');
    expect(reasonOf('http://hooks.example.com/', development)).toBeNull();
    for (const other of ['ftp://hooks.example.com/', 'file:///etc/passwd', 'gopher://hooks.example.com/'])
      expect(reasonOf(other, development), other).toBe('must use https');
  });

  it('refuses credentials in the URL', () => {
    expect(reasonOf('https://user:secret@hooks.example.com/')).toMatch(/user name or password/);
    expect(reasonOf('https://user@hooks.example.com/')).toMatch(/user name or password/);
  });

  it('refuses IP literals in forbidden ranges, in every spelling the URL parser normalises', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://[::1]/',
      'https://2130706433/', // 127.0.0.1 as one decimal number
      'https://0x7f.1/', // 127.0.0.1 in hex and short form
      'https://[::ffff:7f00:1]/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/',
      'https://10.0.0.8/',
      'https://100.64.1.1/',
      'https://0.0.0.0/',
    ]) {
      expect(reasonOf(url), url).toMatch(/must not point to a .* address/);
    }
  });

  it('refuses internal names, the metadata name included', () => {
    for (const url of [
      'https://localhost/',
      'https://metadata.google.internal/computeMetadata/v1/',
      'https://intranet/',
      'https://printer.local/',
    ]) {
      expect(reasonOf(url), url).toMatch(/must not point to an/);
    }
  });

  it('lets the operator allow a host:port (http included, even in production), and nothing else on that host', () => {
    const policy = { requireHttps: true, allowedHosts: ['127.0.0.1:11434'] };
    expect(reasonOf('http://127.0.0.1:11434/v1', policy)).toBeNull();
    expect(reasonOf('http://127.0.0.1:11435/v1', policy)).toBe('must use https');
    expect(reasonOf('https://127.0.0.1:11435/v1', policy)).toMatch(/loopback/);
    expect(reasonOf('http://127.0.0.1:11434/v1', { requireHttps: true, allowedHosts: ['127.0.0.1'] })).toBeNull();
  });

  it('refuses what is not a URL, and overly long URLs', () => {
    expect(reasonOf('hooks.example.com/parley')).toBe('must be an absolute URL');
    expect(reasonOf(`https://hooks.example.com/${'a'.repeat(2100)}`)).toMatch(/at most 2048/);
  });
});

describe('tenantUrlSchema', () => {
  it('reports the reason on the field, for the settings API', () => {
    const schema = z.object({ handoffWebhookUrl: tenantUrlSchema(production) });
    const result = schema.safeParse({ handoffWebhookUrl: 'http://169.254.169.254/' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['handoffWebhookUrl'], message: 'must use https' })]);
    expect(schema.safeParse({ handoffWebhookUrl: 'https://169.254.169.254/' }).error?.issues[0].message).toBe(
      'must not point to a linkLocal address',
    );
    expect(schema.parse({ handoffWebhookUrl: 'https://hooks.example.com/h' })).toEqual({
      handoffWebhookUrl: 'https://hooks.example.com/h',
    });
  });
});

describe('checkTenantUrlAddresses', () => {
  const resolverFor =
    (answers: Record<string, string[]>): Resolver =>
    async (hostname) =>
      (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('refuses a name that resolves to a private address, or to a mix of public and private', async () => {
    const resolve = resolverFor({ 'inside.example.com': ['10.0.0.5'], 'mixed.example.com': ['93.184.216.34', '169.254.169.254'] });
    expect(await checkTenantUrlAddresses('https://inside.example.com/', { ...production, resolve })).toEqual({
      ok: false,
      reason: 'host name resolves to a private address',
    });
    expect(await checkTenantUrlAddresses('https://mixed.example.com/', { ...production, resolve })).toEqual({
      ok: false,
      reason: 'host name resolves to a linkLocal address',
    });
  });

  it('accepts a name with public addresses only, and refuses one that does not resolve', async () => {
    const resolve = resolverFor({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
    expect((await checkTenantUrlAddresses('https://hooks.example.com/', { ...production, resolve })).ok).toBe(true);
    expect(await checkTenantUrlAddresses('https://nowhere.example.com/', { ...production, resolve })).toEqual({
      ok: false,
      reason: 'host name does not resolve',
    });
  });
});

describe('parseAllowedHost', () => {
  it('reads host:port, host and bracketed IPv6 entries, and refuses URLs', () => {
    expect(parseAllowedHost('127.0.0.1:11434')).toEqual({ hostname: '127.0.0.1', port: '11434' });
    expect(parseAllowedHost('Ollama')).toEqual({ hostname: 'ollama', port: undefined });
    expect(parseAllowedHost('[::1]:8080')).toEqual({ hostname: '[::1]', port: '8080' });
    expect(parseAllowedHost('http://127.0.0.1:80/')).toBeNull();
    expect(parseAllowedHost('user@host')).toBeNull();
  });
});

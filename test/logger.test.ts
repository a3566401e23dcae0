import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';

/** A logger whose JSON lines are kept (as text, to search for secrets anywhere in them, and parsed). */
function capturingLogger() {
  const text: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('info', stream), text, lines: () => text.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('the process logger (secrets)', () => {
  const secret = 'sk-live-do-not-log';

  it('censors secret-named fields at the top level, one level down and in headers', () => {
    const { logger, text, lines } = capturingLogger();
    logger.info({ authToken: secret, password: secret, apiKey: secret, authorization: secret }, 'top');
    logger.info(
      {
        tenant: { name: 'Acme', authToken: secret },
        request: {
          headers: { authorization: `Bearer ${secret}`, 'x-tenant-api-key': secret, 'x-twilio-signature': secret, accept: 'text/xml' },
        },
      },
      'nested',
    );
    logger.info({ headers: { authorization: secret } }, 'headers');
    expect(text.join('\n')).not.toContain(secret);
    const [top, nested, headers] = lines();
    expect(top).toMatchObject({ authToken: '[redacted]', password: '[redacted]', apiKey: '[redacted]', authorization: '[redacted]' });
    expect(nested).toMatchObject({
      tenant: { name: 'Acme', authToken: '[redacted]' },
      request: {
        headers: { authorization: '[redacted]', 'x-tenant-api-key': '[redacted]', 'x-twilio-signature': '[redacted]', accept: 'text/xml' },
      },
    });
    expect(headers).toMatchObject({ headers: { authorization: '[redacted]' } });
  });

  it('leaves the logged object itself untouched (the caller may still use it)', () => {
    const { logger } = capturingLogger();
    const tenant = { name: 'Acme', authToken: secret };
    logger.info({ tenant }, 'copy');
    expect(tenant.authToken).toBe(secret);
  });

  it('censors a secret carried by an error, keeping its message and stack', () => {
    const { logger, text, lines } = capturingLogger();
    const error = Object.assign(new Error('upstream refused'), { headers: { authorization: secret } });
    logger.error({ err: error }, 'failed');
    expect(text.join('\n')).not.toContain(secret);
    expect(lines()[0]).toMatchObject({ err: { message: 'upstream refused', headers: { authorization: '[redacted]' } } });
    expect((lines()[0].err as { stack: string }).stack).toContain('upstream refused');
  });

  it("censors secrets in a child logger's bindings", () => {
    const { logger, text, lines } = capturingLogger();
    const child = logger.child({ tenant: { id: 't1', authToken: secret } });
    child.info('bound');
    child.child({ apiKey: secret }).info('grandchild');
    expect(text.join('\n')).not.toContain(secret);
    expect(lines()[0]).toMatchObject({ tenant: { id: 't1', authToken: '[redacted]' } });
    expect(lines()[1]).toMatchObject({ tenant: { id: 't1', authToken: '[redacted]' }, apiKey: '[redacted]' });
  });

  it('logs ordinary fields as they are', () => {
    const { logger, lines } = capturingLogger();
    logger.info({ tenantId: 't1', conversationId: 'c1', messageSid: 'SM1', duplicate: false, media: [{ url: 'https://x' }] }, 'plain');
    expect(lines()[0]).toMatchObject({
      tenantId: 't1',
      conversationId: 'c1',
      messageSid: 'SM1',
      duplicate: false,
      media: [{ url: 'https://x' }],
      msg: 'plain',
    });
  });
});
